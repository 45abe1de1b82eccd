package dev.tern.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests that Pekko HTTP cannot even parse (URI too long, bad request line, headers too large...)
 * with a JSON error instead of Pekko's plain-text one. {@link HttpApi#bind} installs it through
 * {@code pekko.http.server.parsing.error-handler}; Pekko instantiates it by reflection, so it must stay public
 * with a public no-argument constructor.
 */
public final class HttpParsingErrorHandler extends ParsingErrorHandler {
  public HttpParsingErrorHandler() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    log.debug("Illegal request, responding with status '{}': {}", status, info.formatPretty());
    String summary = info.summary();
    return HttpJson.error(status, summary == null || summary.isEmpty() ? status.reason() : summary);
  }
}
