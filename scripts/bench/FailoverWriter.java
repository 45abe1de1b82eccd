import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client of scripts/failover-bench: starts one write every INTERVAL ms, whatever the earlier ones are doing
 * (so an outage does not slow the cadence), to the given nodes in turn, and prints one line per answer:
 *
 * <pre>seq sent-epoch-ms answered-epoch-ms host:port status</pre>
 *
 * status is the HTTP status, or -1 with the exception's name when there was no answer (10 s timeout). Stops
 * after MAX seconds, or when killed.
 *
 * <pre>java FailoverWriter tern|etcd INTERVAL-MS MAX-SECONDS host:port [host:port...]</pre>
 *
 * Tern: PUT /v1/kv/failover-key with the sequence number as the value. etcd: POST /v3/kv/put to its JSON gateway.
 */
public final class FailoverWriter {
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    long interval = Long.parseLong(args[1]);
    long maxMs = Long.parseLong(args[2]) * 1000;
    List<String> targets = List.of(args).subList(3, args.length);
    HttpClient client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    AtomicLong seq = new AtomicLong();
    long start = System.currentTimeMillis();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    timer.scheduleAtFixedRate(() -> {
      long n = seq.getAndIncrement();
      String target = targets.get((int) (n % targets.size()));
      long sent = System.currentTimeMillis();
      if (sent - start > maxMs) System.exit(0);
      HttpRequest request;
      if (mode.equals("etcd")) {
        String body = "{\"key\":\"" + b64("failover-key") + "\",\"value\":\"" + b64(Long.toString(n)) + "\"}";
        request = HttpRequest.newBuilder(URI.create("http://" + target + "/v3/kv/put"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
      } else {
        request = HttpRequest.newBuilder(URI.create("http://" + target + "/v1/kv/failover-key"))
            .timeout(Duration.ofSeconds(10))
            .PUT(HttpRequest.BodyPublishers.ofString(Long.toString(n)))
            .build();
      }
      client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
        long answered = System.currentTimeMillis();
        String status = error == null ? Integer.toString(response.statusCode())
            : "-1 " + (error.getCause() != null ? error.getCause() : error).getClass().getSimpleName();
        synchronized (out) {
          out.println(n + " " + sent + " " + answered + " " + target + " " + status);
        }
      });
    }, 0, interval, TimeUnit.MILLISECONDS);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
