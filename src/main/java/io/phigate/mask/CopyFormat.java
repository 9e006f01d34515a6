package io.phigate.mask;

/**
 * The COPY text formats whose rows the masker can read (binary COPY it cannot, so it is refused where masking
 * applies). Neutral, so that the session pipeline can name the format a plan applies to without the wire codec.
 */
public enum CopyFormat { TEXT, CSV }
