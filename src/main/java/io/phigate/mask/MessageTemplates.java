package io.phigate.mask;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL's server messages as the printf templates they are written from ({@code relation "%s" does not
 * exist}), read from the msgids of its message catalogs ({@code tools/postgres-messages.py}). Matching a message
 * against its template tells the server's words from the values it filled in, even when a value contains quotes,
 * which PostgreSQL does not escape.
 */
final class MessageTemplates {
    /**
     * One template: its conversions in order, and the pattern that reads a message made from it, compiled when a
     * message first starts and ends as the template does (most are never needed).
     */
    static final class Template {
        final String source;
        final String conversions;
        final int literalChars;
        private final String prefix;
        private final String suffix;
        private final String regex;
        private volatile Pattern pattern;

        Template(String source, String conversions, int literalChars, String prefix, String suffix, String regex) {
            this.source = source;
            this.conversions = conversions;
            this.literalChars = literalChars;
            this.prefix = prefix;
            this.suffix = suffix;
            this.regex = regex;
        }

        /** The reading of {@code message} by this template, or null if it was not made from it. */
        Matcher read(String message) {
            if (message.length() < prefix.length() + suffix.length() || !message.startsWith(prefix)
                    || !message.endsWith(suffix)) {
                return null;
            }
            Pattern p = pattern;
            if (p == null) {
                p = Pattern.compile(regex, Pattern.DOTALL);
                pattern = p; // a race compiles it twice, to the same pattern
            }
            Matcher m = p.matcher(message);
            return m.matches() ? m : null;
        }
    }

    /** A message read by a template: the text between the arguments is the template's own. */
    record Match(Template template, Matcher matcher) {
    }

    private static final Pattern CONVERSION =
            Pattern.compile("%[-+ #0]*(?:\\*|\\d+)?(?:\\.(?:\\*|\\d+))?(?:hh|h|ll|l|z|j|t|L)?([diouxXeEfgGcspm%])");

    private final Map<String, List<Template>> byFirstWord = new HashMap<>();
    private final List<Template> unindexed = new ArrayList<>();
    private final Set<String> vocabulary = new HashSet<>();
    /** Templates without conversions, lower-cased: whole messages that some templates embed ("%s at or near"). */
    private final Set<String> constants = new HashSet<>();

    private MessageTemplates(List<String> templates) {
        for (String source : templates) {
            Template t = compile(source);
            if (t.conversions.isEmpty()) {
                constants.add(source.toLowerCase(Locale.ROOT));
            }
            String first = firstWord(source);
            if (first == null || (first.length() < source.length() && source.charAt(first.length()) == '%')) {
                // No whole word to index by: "%s: %s", or a word a value continues ("XX%s").
                unindexed.add(t);
            } else {
                byFirstWord.computeIfAbsent(first, k -> new ArrayList<>()).add(t);
            }
        }
    }

    /** The templates of the PostgreSQL version the resource was generated from; loaded on first use. */
    static MessageTemplates postgres() {
        return Bundled.INSTANCE;
    }

    private static final class Bundled {
        static final MessageTemplates INSTANCE = load("postgres-messages.txt");
    }

    static MessageTemplates of(List<String> templates) {
        return new MessageTemplates(templates);
    }

    private static MessageTemplates load(String resource) {
        List<String> lines = new ArrayList<>();
        try (InputStream in = MessageTemplates.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.startsWith("#") && !line.isEmpty()) {
                    lines.add(unescape(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new MessageTemplates(lines);
    }

    private static String unescape(String line) {
        if (line.indexOf('\\') < 0) {
            return line;
        }
        StringBuilder out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                char next = line.charAt(++i);
                out.append(next == 'n' ? '\n' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private Template compile(String source) {
        StringBuilder regex = new StringBuilder();
        StringBuilder conversions = new StringBuilder();
        int literal = 0;
        int at = 0;
        int firstConversion = -1;
        int lastConversionEnd = 0;
        Matcher m = CONVERSION.matcher(source);
        while (m.find()) {
            if (!m.group(1).equals("%")) {
                firstConversion = firstConversion < 0 ? m.start() : firstConversion;
                lastConversionEnd = m.end();
            }
            literal += literal(source.substring(at, m.start()), regex);
            char c = m.group(1).charAt(0);
            if (c == '%') {
                literal += literal("%", regex);
            } else {
                regex.append(switch (c) {
                    case 'd', 'i', 'o', 'u', 'x', 'X' -> "([-+]?[0-9A-Fa-f]+)";
                    case 'c' -> "(.)";
                    default -> "(.*?)";
                });
                conversions.append(c);
            }
            at = m.end();
        }
        literal += literal(source.substring(at), regex);
        // Prefix and suffix as a message shows them: a "%%" in them is one "%".
        String prefix = firstConversion < 0 ? source : source.substring(0, firstConversion);
        String suffix = firstConversion < 0 ? "" : source.substring(lastConversionEnd);
        return new Template(source, conversions.toString(), literal, prefix.replace("%%", "%"), suffix.replace("%%", "%"),
                regex.toString());
    }

    private int literal(String text, StringBuilder regex) {
        if (!text.isEmpty()) {
            regex.append(Pattern.quote(text));
            for (String word : EchoedValues.words(text)) {
                vocabulary.add(word);
            }
        }
        return text.length();
    }

    private static String firstWord(String text) {
        int end = 0;
        while (end < text.length() && Character.isLetter(text.charAt(end))) {
            end++;
        }
        return end == 0 ? null : text.substring(0, end).toLowerCase(Locale.ROOT);
    }

    /** The template that reads all of {@code message} with the most text of its own, or null. */
    Match match(String message) {
        Match best = null;
        String first = firstWord(message);
        List<Template> indexed = first == null ? List.of() : byFirstWord.getOrDefault(first, List.of());
        for (List<Template> candidates : List.of(indexed, unindexed)) {
            for (Template t : candidates) {
                if (best != null && t.literalChars <= best.template().literalChars) {
                    continue;
                }
                Matcher m = t.read(message);
                if (m != null) {
                    best = new Match(t, m);
                }
            }
        }
        return best;
    }

    /** True if {@code text} is a whole message of the server's, one without values. */
    boolean isConstant(String text) {
        return constants.contains(text.toLowerCase(Locale.ROOT));
    }

    /** Every lower-cased word the templates write themselves. */
    boolean isServerWord(String lowerCaseWord) {
        return vocabulary.contains(lowerCaseWord);
    }
}
