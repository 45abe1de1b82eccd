package dev.tern.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A headless Chromium (Debian's {@code chromium} package) driven over the Chrome DevTools Protocol with the JDK's
 * own WebSocket: no browser-automation library. {@link #find} installs the package when it is missing and this
 * process runs as root with apt-get (as CI does; .ci/run installs it first too), and answers null where it cannot be
 * had. Each instance is one browser process with one page and a profile folder of its own, both removed by
 * {@link #close}.
 */
final class Chromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
  /** How long a DevTools command may take before the test fails rather than hangs. */
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final Path profile;
  private final WebSocket page;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

  /** The browser's path, installing Debian's package if missing and allowed; null when it cannot be had. */
  static synchronized String find() throws InterruptedException {
    String found = onPath();
    if (found != null) return found;
    if (!"root".equals(System.getProperty("user.name")) || Promtool.onPath("apt-get") == null) return null;
    // Bounded: a machine without the package registry gives up rather than hang the suite.
    run(300, "apt-get", "update", "-qq");
    run(900, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium");
    return onPath();
  }

  private static String onPath() {
    String c = Promtool.onPath("chromium");
    return c != null ? c : Promtool.onPath("chromium-browser");
  }

  private static void run(long seconds, String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      // not installable here: the caller skips
    }
  }

  /** Starts {@code binary} headless with a blank page of {@code width} x {@code height} pixels and attaches to it. */
  Chromium(String binary, int width, int height) throws IOException, InterruptedException {
    profile = Files.createTempDirectory("tern-chromium");
    process = new ProcessBuilder(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank")
        .redirectErrorStream(true).start();
    try {
      URI browser = listeningAddress(Duration.ofSeconds(60));
      page = connect(pageAddress(browser));
    } catch (IOException | RuntimeException | InterruptedException e) {
      close();
      throw e;
    }
  }

  /** Reads the browser's output until it says where DevTools listens (draining the rest in the background). */
  private URI listeningAddress(Duration within) throws IOException, InterruptedException {
    CompletableFuture<URI> address = new CompletableFuture<>();
    StringBuilder said = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) address.complete(URI.create(m.group(1)));
          else if (!address.isDone() && said.length() < 4000) said.append(line).append('\n');
        }
      } catch (IOException e) {
        // the process is gone
      }
      address.completeExceptionally(new IOException("chromium exited without a DevTools address; it said:\n" + said));
    }, "chromium-output");
    reader.setDaemon(true);
    reader.start();
    try {
      return address.get(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException("chromium gave no DevTools address within " + within + "; it said:\n" + said);
    }
  }

  /** The WebSocket address of the browser's page target, from its {@code /json/list}. */
  private static URI pageAddress(URI browser) throws IOException, InterruptedException {
    URI list = URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(list).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    for (JsonNode target : JSON.readTree(r.body())) {
      if ("page".equals(target.path("type").asText())) return URI.create(target.path("webSocketDebuggerUrl").asText());
    }
    throw new IOException("chromium has no page target: " + r.body());
  }

  private WebSocket connect(URI address) {
    return HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
        .buildAsync(address, new WebSocket.Listener() {
          private final StringBuilder frame = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            frame.append(data);
            if (last) {
              received(frame.toString());
              frame.setLength(0);
            }
            ws.request(1);
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
          }
        }).orTimeout(10, TimeUnit.SECONDS).join();
  }

  private void received(String message) {
    try {
      JsonNode m = JSON.readTree(message);
      if (!m.has("id")) return; // an event: none is subscribed to, and none is needed
      CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
      if (f == null) return;
      if (m.has("error")) f.completeExceptionally(new IOException("DevTools error: " + m.get("error")));
      else f.complete(m.path("result"));
    } catch (IOException e) {
      // not JSON: DevTools never sends such a message
    }
  }

  /** Sends one DevTools command to the page and waits (bounded) for its result. */
  JsonNode send(String method, ObjectNode params) {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    pending.put(id, result);
    ObjectNode command = JSON.createObjectNode().put("id", id).put("method", method);
    command.set("params", params);
    page.sendText(command.toString(), true);
    try {
      return result.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      pending.remove(id);
      throw new AssertionError("DevTools " + method + " failed: " + e, e);
    }
  }

  void navigate(String url) {
    send("Page.navigate", JSON.createObjectNode().put("url", url));
  }

  /** Evaluates {@code expression} in the page; its value must be a string (JSON.stringify what you need). */
  String evaluate(String expression) {
    JsonNode r = send("Runtime.evaluate", JSON.createObjectNode().put("expression", expression).put("returnByValue", true));
    if (r.has("exceptionDetails")) throw new AssertionError("the page threw: " + r.get("exceptionDetails"));
    return r.path("result").path("value").asText(null);
  }

  /** A PNG of the page as shown now. */
  byte[] screenshot() {
    JsonNode r = send("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
    return java.util.Base64.getDecoder().decode(r.path("data").asText());
  }

  @Override
  public void close() {
    if (page != null) page.abort();
    // The browser's own helper processes first, then the browser: only the processes this instance started.
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(profile)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      // best effort: the folder is under the system's temp folder
    }
  }
}
