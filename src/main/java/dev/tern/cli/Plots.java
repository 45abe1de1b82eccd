package dev.tern.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BoxChart;
import org.knowm.xchart.BoxChartBuilder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.IChart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The evaluation's output: CSV files, PNG plots (XChart, drawn headless, no display needed) and HdrHistogram's
 * percentile distribution. Plots are of what the CSV beside them holds, so a reader can redraw them with any tool.
 */
final class Plots {
  static final int WIDTH = 800;
  static final int HEIGHT = 480;

  private Plots() {}

  static {
    System.setProperty("java.awt.headless", "true"); // drawing into an image needs no display
  }

  /** Writes a CSV file: a header and rows, each value as given (numbers as Java prints them). */
  static void csv(Path file, List<String> header, List<List<?>> rows) throws IOException {
    StringBuilder b = new StringBuilder(String.join(",", header)).append('\n');
    for (List<?> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        if (i > 0) b.append(',');
        b.append(cell(row.get(i)));
      }
      b.append('\n');
    }
    Files.writeString(file, b, StandardCharsets.UTF_8);
  }

  private static String cell(Object v) {
    if (v instanceof Double d) return String.format(java.util.Locale.ROOT, "%.3f", d);
    String s = String.valueOf(v);
    return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

  /** HdrHistogram's percentile distribution of {@code h} (nanoseconds), in milliseconds: the ".hgrm" format. */
  static void percentiles(Histogram h, Path file) throws IOException {
    try (PrintStream out = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      h.outputPercentileDistribution(out, 1e6);
    }
  }

  /**
   * Latency by percentile, one line per histogram, on the log scale HdrHistogram's plotter uses: the x axis is
   * 1/(1-percentile), so 90%, 99%, 99.9% are evenly spaced and the tail is visible.
   */
  static XYChart latencyByPercentile(String title, Map<String, Histogram> lines) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle("percentile").yAxisTitle("latency (ms)").build();
    style(chart.getStyler());
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setXAxisTickLabelsFormattingFunction(x -> percentileLabel(x));
    for (Map.Entry<String, Histogram> e : lines.entrySet()) {
      if (e.getValue().getTotalCount() == 0) continue;
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (HistogramIterationValue v : e.getValue().percentiles(5)) {
        double p = v.getPercentileLevelIteratedTo();
        if (p >= 100) break;
        xs.add(1 / (1 - p / 100));
        ys.add(v.getValueIteratedTo() / 1e6);
      }
      if (xs.isEmpty()) continue;
      chart.addSeries(e.getKey(), xs, ys).setMarker(SeriesMarkers.NONE);
    }
    return chart;
  }

  /** "90%" for 10, "99.9%" for 1000: the percentile an x of {@link #latencyByPercentile} stands for. */
  static String percentileLabel(double x) {
    double p = 100 * (1 - 1 / x);
    if (p < 0.5) return "0%";
    String s = String.format(java.util.Locale.ROOT, "%.5f", p).replaceAll("0+$", "").replaceAll("\\.$", "");
    return s + "%";
  }

  /** One box per group: median, quartiles and whiskers of the values (e.g. election times per timeout range). */
  static BoxChart boxes(String title, String yTitle, Map<String, List<Double>> groups) {
    BoxChart chart = new BoxChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setLegendVisible(false);
    for (Map.Entry<String, List<Double>> e : groups.entrySet()) {
      // As an array: XChart's list form asks the list whether it holds a null, which List.of() answers by throwing.
      if (!e.getValue().isEmpty()) chart.addSeries(e.getKey(), e.getValue().stream().mapToDouble(d -> d).toArray());
    }
    return chart;
  }

  /** Bars, one group per x category and one series per entry of {@code series} (all the same length as x). */
  static CategoryChart bars(String title, String xTitle, String yTitle, List<String> x, Map<String, List<Double>> series) {
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setLegendVisible(series.size() > 1);
    for (Map.Entry<String, List<Double>> e : series.entrySet()) {
      chart.addSeries(e.getKey(), new ArrayList<>(x), new ArrayList<>(e.getValue()));
    }
    return chart;
  }

  /** Lines over a numeric x, one per entry of {@code series}. */
  static XYChart lines(String title, String xTitle, String yTitle, List<Double> x, Map<String, List<Double>> series) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    style(chart.getStyler());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setLegendVisible(series.size() > 1);
    chart.getStyler().setYAxisMin(0.0);
    for (Map.Entry<String, List<Double>> e : series.entrySet()) {
      chart.addSeries(e.getKey(), new ArrayList<>(x), new ArrayList<>(e.getValue())).setLineStyle(new BasicStroke(2f));
    }
    return chart;
  }

  /** Saves one chart, or several side by side, as a PNG. */
  static void png(Path file, List<? extends IChart> charts) throws IOException {
    if (charts.size() == 1) {
      BitmapEncoder.saveBitmap(charts.get(0), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    } else {
      BitmapEncoder.saveBitmap(charts, 1, charts.size(), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
  }

  private static void style(Styler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderVisible(false);
    s.setChartTitleBoxVisible(false);
    s.setLegendBorderColor(Color.WHITE);
  }
}
