package io.phigate.console;

import java.util.List;
import java.util.Locale;

/**
 * Small SVG charts rendered on the server: no script, no third-party library, readable offline. Each chart is an
 * image with a title and a description for screen readers; the page puts the same numbers in a table beside it.
 */
final class Charts {
    /** One bar: a label and up to two stacked values (the second drawn on top, in the warning colour). */
    record Bar(String label, long first, long second) {
    }

    private Charts() {
    }

    /** Vertical stacked bars, one per item (minutes, say), labels under every {@code labelEvery}-th bar. */
    static String columns(String id, String title, String description, List<Bar> bars, String firstName,
                          String secondName, int labelEvery) {
        int width = 720;
        int height = 220;
        int left = 40;
        int bottom = 30;
        int top = 10;
        long max = 1;
        for (Bar b : bars) {
            max = Math.max(max, b.first + b.second);
        }
        double slot = bars.isEmpty() ? 0 : (double) (width - left - 10) / bars.size();
        double scale = (double) (height - bottom - top) / max;
        StringBuilder s = svgOpen(id, title, description, width, height);
        axis(s, left, top, width, height - bottom, max);
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double x = left + i * slot + slot * 0.1;
            double w = Math.max(1, slot * 0.8);
            double h1 = b.first * scale;
            double h2 = b.second * scale;
            double y1 = height - bottom - h1;
            s.append(rect("bar first", x, y1, w, h1, b.label + ": " + b.first + " " + firstName));
            if (b.second > 0) {
                s.append(rect("bar second", x, y1 - h2, w, h2, b.label + ": " + b.second + " " + secondName));
            }
            if (labelEvery > 0 && i % labelEvery == 0) {
                s.append("<text class=\"label\" x=\"").append(fmt(x)).append("\" y=\"").append(height - 10)
                        .append("\">").append(Html.esc(b.label)).append("</text>");
            }
        }
        return s.append(legend(firstName, secondName, width - 260, top + 4)).append("</svg>").toString();
    }

    /** Horizontal stacked bars, one per item (identities, say), the label left of each. */
    static String rows(String id, String title, String description, List<Bar> bars, String firstName,
                       String secondName) {
        int width = 720;
        int rowHeight = 24;
        int left = 220;
        int top = 28;
        int height = top + Math.max(1, bars.size()) * rowHeight + 10;
        long max = 1;
        for (Bar b : bars) {
            max = Math.max(max, b.first + b.second);
        }
        double scale = (double) (width - left - 60) / max;
        StringBuilder s = svgOpen(id, title, description, width, height);
        s.append(legend(firstName, secondName, left, 6));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double y = top + i * rowHeight;
            String label = b.label.length() > 32 ? b.label.substring(0, 31) + "…" : b.label;
            s.append("<text class=\"label\" x=\"4\" y=\"").append(fmt(y + 16)).append("\">").append(Html.esc(label))
                    .append("</text>");
            double w1 = b.first * scale;
            double w2 = b.second * scale;
            s.append(rect("bar first", left, y + 4, w1, rowHeight - 8, b.label + ": " + b.first + " " + firstName));
            s.append(rect("bar second", left + w1, y + 4, w2, rowHeight - 8, b.label + ": " + b.second + " " + secondName));
            s.append("<text class=\"value\" x=\"").append(fmt(left + w1 + w2 + 6)).append("\" y=\"")
                    .append(fmt(y + 16)).append("\">").append(b.first).append(" / ").append(b.second).append("</text>");
        }
        return s.append("</svg>").toString();
    }

    private static StringBuilder svgOpen(String id, String title, String description, int width, int height) {
        return new StringBuilder("<svg id=\"").append(id).append("\" class=\"chart\" role=\"img\" viewBox=\"0 0 ")
                .append(width).append(' ').append(height).append("\" aria-labelledby=\"").append(id).append("-t ")
                .append(id).append("-d\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"").append(id).append("-t\">")
                .append(Html.esc(title)).append("</title><desc id=\"").append(id).append("-d\">")
                .append(Html.esc(description)).append("</desc>");
    }

    private static void axis(StringBuilder s, int left, int top, int right, int bottomY, long max) {
        s.append("<line class=\"axis\" x1=\"").append(left).append("\" y1=\"").append(bottomY).append("\" x2=\"")
                .append(right).append("\" y2=\"").append(bottomY).append("\"/>")
                .append("<text class=\"label\" x=\"2\" y=\"").append(top + 10).append("\">").append(max)
                .append("</text><text class=\"label\" x=\"2\" y=\"").append(bottomY).append("\">0</text>");
    }

    private static String legend(String first, String second, int x, int y) {
        return "<rect class=\"bar first\" x=\"" + x + "\" y=\"" + y + "\" width=\"10\" height=\"10\"/><text class=\"label\""
                + " x=\"" + (x + 14) + "\" y=\"" + (y + 9) + "\">" + Html.esc(first) + "</text><rect class=\"bar second\""
                + " x=\"" + (x + 120) + "\" y=\"" + y + "\" width=\"10\" height=\"10\"/><text class=\"label\" x=\""
                + (x + 134) + "\" y=\"" + (y + 9) + "\">" + Html.esc(second) + "</text>";
    }

    private static String rect(String cls, double x, double y, double w, double h, String tip) {
        return "<rect class=\"" + cls + "\" x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w)
                + "\" height=\"" + fmt(h) + "\"><title>" + Html.esc(tip) + "</title></rect>";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
