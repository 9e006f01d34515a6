package io.phigate.audit;

import io.phigate.audit.AuditQueries.SealedException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A completion's recorded response: opened with the key when sealed, then inflated to the bytes the client got. */
final class Recordings {
    private final StoreReader store;

    Recordings(StoreReader store) {
        this.store = store;
    }

    byte[] response(long seq) throws SQLException, SealedException {
        byte[] blob;
        try (Connection c = store.connect();
             PreparedStatement q = c.prepareStatement("SELECT response FROM audit_event WHERE seq = ?")) {
            q.setLong(1, seq);
            try (ResultSet rs = q.executeQuery()) {
                blob = rs.next() ? rs.getBytes(1) : null;
            }
        }
        if (blob == null) {
            return null;
        }
        if (PayloadCipher.isSealed(blob)) {
            if (store.cipher == null) {
                throw new SealedException();
            }
            try {
                blob = store.cipher.openBytes(blob, "response");
            } catch (java.security.GeneralSecurityException e) {
                throw new SQLException("audit record " + seq + ": " + e.getMessage());
            }
        }
        java.util.zip.Inflater inflater = new java.util.zip.Inflater();
        try {
            inflater.setInput(blob);
            var out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[64 * 1024];
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (java.util.zip.DataFormatException e) {
            throw new SQLException("audit record " + seq + " holds a recording that does not inflate");
        } finally {
            inflater.end();
        }
    }
}
