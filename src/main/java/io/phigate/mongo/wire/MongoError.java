package io.phigate.mongo.wire;

import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonString;

/**
 * An error as the document store reports one: a numeric code, its name, and a message. The codes are the server's
 * own (src/mongo/base/error_codes.yml), so drivers classify them as they would the server's; none of those used for
 * the gateway's own refusals is one a driver retries on its own.
 */
public record MongoError(int code, String codeName) {
    public static final MongoError INTERNAL_ERROR = new MongoError(1, "InternalError");
    public static final MongoError BAD_VALUE = new MongoError(2, "BadValue");
    public static final MongoError FAILED_TO_PARSE = new MongoError(9, "FailedToParse");
    public static final MongoError UNAUTHORIZED = new MongoError(13, "Unauthorized");
    public static final MongoError AUTHENTICATION_FAILED = new MongoError(18, "AuthenticationFailed");
    public static final MongoError INVALID_BSON = new MongoError(22, "InvalidBSON");
    public static final MongoError CURSOR_NOT_FOUND = new MongoError(43, "CursorNotFound");
    public static final MongoError COMMAND_NOT_FOUND = new MongoError(59, "CommandNotFound");
    public static final MongoError MECHANISM_UNAVAILABLE = new MongoError(334, "MechanismUnavailable");
    public static final MongoError BSON_OBJECT_TOO_LARGE = new MongoError(10334, "BSONObjectTooLarge");
    public static final MongoError DUPLICATE_FIELD = new MongoError(40413, "Location40413");
    /** mongod's IDL parser's refusal of a field a command does not take. */
    public static final MongoError UNKNOWN_FIELD = new MongoError(40415, "Location40415");
    public static final MongoError CHECKSUM_MISMATCH = new MongoError(51, "ChecksumMismatch");
    public static final MongoError UNSUPPORTED_OP_QUERY = new MongoError(5739101, "Location5739101");

    /** The reply body a server sends for this error: {@code {ok: 0, errmsg, code, codeName}}. */
    public BsonDocument reply(String message) {
        return new BsonDocument("ok", new BsonDouble(0))
                .append("errmsg", new BsonString(message))
                .append("code", new BsonInt32(code))
                .append("codeName", new BsonString(codeName));
    }
}
