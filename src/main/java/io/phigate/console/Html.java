package io.phigate.console;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Server-side HTML: escaping and the page frame every console page shares. Pages are built as text with every
 * value passed through {@link #esc}; statements, parameters and row values are PHI and reach only signed-in users.
 */
final class Html {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    /** The pages of the navigation bar: path, label. */
    private static final String[][] NAV = {
        {"/console", "Overview"},
        {"/console/approvals", "Approvals"},
        {"/console/sessions", "Live sessions"},
        {"/console/audit", "Audit search"},
        {"/console/evidence", "Evidence"},
    };

    private Html() {
    }

    /** Escapes text for element content and double-quoted attribute values. */
    static String esc(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (rep == null && c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                rep = "\uFFFD"; // control characters have no business in a page
            }
            if (rep != null) {
                if (b == null) {
                    b = new StringBuilder(s.length() + 16).append(s, 0, i);
                }
                b.append(rep);
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    static String time(Instant t) {
        return t == null ? "" : "<time datetime=\"" + t + "\">" + TIME.format(t) + "</time>";
    }

    /** A stored audit time (ISO text) shown as it is, in a time element. */
    static String time(String iso) {
        return iso == null ? "" : "<time datetime=\"" + esc(iso) + "\">" + esc(iso.replace('T', ' ')) + "</time>";
    }

    /** A whole page: the frame, the navigation (when someone is signed in) and {@code body}. */
    static String page(String title, ConsoleUser user, String active, String body) {
        StringBuilder b = new StringBuilder(body.length() + 2048);
        b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(esc(title)).append(" · phigate</title>")
                .append("<link rel=\"stylesheet\" href=\"/console/assets/console.css\">")
                .append("<script src=\"/console/assets/console.js\" defer></script></head><body>")
                .append("<a class=\"skip\" href=\"#main\">Skip to content</a>")
                .append("<header><span class=\"brand\">phigate</span>");
        if (user != null) {
            b.append("<nav aria-label=\"Console\"><ul>");
            for (String[] item : NAV) {
                boolean current = item[0].equals(active);
                b.append("<li><a href=\"").append(item[0]).append('"')
                        .append(current ? " aria-current=\"page\"" : "").append('>').append(item[1]).append("</a></li>");
            }
            if (user.has(ConsoleRole.ADMIN)) {
                b.append("<li><a href=\"/console/config\"").append("/console/config".equals(active)
                        ? " aria-current=\"page\"" : "").append(">Configuration</a></li>");
            }
            b.append("</ul></nav><form class=\"who\" method=\"post\" action=\"/console/sign-out\">")
                    .append(csrfField(user))
                    .append("<span>").append(esc(user.identity().subject())).append(" (")
                    .append(esc(user.roleNames())).append(")</span> ")
                    .append("<button type=\"submit\">Sign out</button></form>");
        }
        b.append("</header><main id=\"main\" tabindex=\"-1\"><h1>").append(esc(title)).append("</h1>")
                .append(body).append("</main></body></html>");
        return b.toString();
    }

    /** One term and its description (already HTML) in a {@code <dl class="facts">}. */
    static void fact(StringBuilder b, String term, String html) {
        b.append("<dt>").append(term).append("</dt><dd>").append(html).append("</dd>");
    }

    static String csrfField(ConsoleUser user) {
        return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(user.csrf()) + "\">";
    }

    /** A status line announced to screen readers. */
    static String notice(String kind, String text) {
        return "<p class=\"notice " + esc(kind) + "\" role=\"" + ("error".equals(kind) ? "alert" : "status") + "\">"
                + esc(text) + "</p>";
    }

    /** Shortens long text for a table cell, keeping the full text in the title. */
    static String clip(String text, int max) {
        if (text == null) {
            return "";
        }
        if (text.length() <= max) {
            return esc(text);
        }
        return "<span title=\"" + esc(text) + "\">" + esc(text.substring(0, max)) + "…</span>";
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(java.util.Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    }
}
