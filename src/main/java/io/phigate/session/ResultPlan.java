package io.phigate.session;

import io.phigate.mask.CopyFormat;




/**
 * What the session applies to a forwarded statement's results: the masking rules (null when nothing this session
 * reads is masked, so results stream through untouched), the role's row limit (0 for none), and for a COPY TO the
 * output format the masker reads rows in (null: not a COPY the masker can parse).
 */
public record ResultPlan(SessionMasking masking, long rowLimit, CopyFormat copyFormat, boolean copyHeader) {
}
