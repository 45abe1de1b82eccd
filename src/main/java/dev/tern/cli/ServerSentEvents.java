package dev.tern.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a server-sent event stream line by line (the WHATWG "text/event-stream" format): {@code event:}, {@code id:}
 * and {@code data:} fields, an event at each blank line, comment lines (starting with ':', Tern's keep-alives)
 * ignored.
 */
final class ServerSentEvents {
  /** One event: its type ("message" when none was given), its id (null when none) and its data lines joined. */
  record Event(String type, String id, String data) {}

  private final Consumer<Event> sink;
  private String type;
  private String id;
  private final List<String> data = new ArrayList<>();

  ServerSentEvents(Consumer<Event> sink) {
    this.sink = sink;
  }

  /** Feeds one line, without its line ending. */
  void line(String line) {
    if (line.isEmpty()) {
      if (!data.isEmpty() || type != null) sink.accept(new Event(type == null ? "message" : type, id, String.join("\n", data)));
      type = null;
      id = null;
      data.clear();
      return;
    }
    if (line.startsWith(":")) return;
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    switch (field) {
      case "event" -> type = value;
      case "id" -> id = value;
      case "data" -> data.add(value);
      default -> { } // "retry" and unknown fields: not used here
    }
  }
}
