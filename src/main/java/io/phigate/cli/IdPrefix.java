package io.phigate.cli;

import java.util.List;

/**
 * An id as pasted: the whole id, or a unique prefix of one (as git takes an abbreviated commit). Tables print
 * ids shortened; every command that takes an id takes such a prefix back.
 */
final class IdPrefix {
    /** The most candidates listed when a prefix is ambiguous. */
    static final int SHOWN = 5;

    private IdPrefix() {
    }

    /** Thrown when a prefix names no id or several; the message says which and what to do. */
    static final class Unresolved extends Exception {
        Unresolved(String message) {
            super(message);
        }
    }

    /**
     * The one id {@code prefix} names among {@code candidates} (ids equal to or starting with it); {@code what}
     * names the kind of id in messages ("session").
     */
    static String resolve(String prefix, List<String> candidates, String what) throws Unresolved {
        if (candidates.contains(prefix)) {
            return prefix;
        }
        List<String> matching = candidates.stream().filter(id -> id.startsWith(prefix)).toList();
        if (matching.size() == 1) {
            return matching.getFirst();
        }
        if (matching.isEmpty()) {
            throw new Unresolved("no " + what + " id starts with " + Terminal.safe(prefix));
        }
        throw new Unresolved(what + " id prefix " + Terminal.safe(prefix) + " is ambiguous: it starts "
                + String.join(", ", matching.stream().limit(SHOWN).map(Terminal::safe).toList())
                + (matching.size() > SHOWN ? " and more" : "") + "; give more characters");
    }
}
