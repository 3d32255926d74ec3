// OpenSSL's X509 verification codes, which the Node and Bun adapters' TLS both report,
// as the contract's certificate codes: one table, so the two cannot drift apart.

import type { NetErrorCode } from "../net-errors.ts";

/** The contract's code for an OpenSSL X509 verification code; undefined if it is not one. */
export function x509Code(code: string): NetErrorCode | undefined {
  switch (code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "CERT_SIGNATURE_FAILURE":
    case "CERT_UNTRUSTED":
      return "ECERTUNTRUSTED";
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "ECERTEXPIRED";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "ECERTNAME";
  }
  return undefined;
}
