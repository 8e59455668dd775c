//! The TimeStampResp as this TSA writes it (and as clients read it back): RFC 3161 §2.4.2
//! PKIStatusInfo with failInfo as a named-bit BIT STRING.
//!
//! Why not `x509_tsp::TimeStampResp`: its status is `cmpv2` 0.2's `PkiStatusInfo`, whose
//! `PkiFailureInfo` flags are declared as bit positions where the `flagset` crate expects masks,
//! so it cannot encode (or decode) badDataFormat, unacceptedPolicy and most other failures. The
//! token itself is `x509_tsp::TimeStampToken` (a CMS ContentInfo).

use cmpv2::status::PkiStatus;
use der::asn1::{BitString, Utf8StringRef};
use der::{Decode, Encode, Sequence};

/// PKIFailureInfo bit numbers (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FailureInfo {
    BadAlg = 0,
    BadRequest = 2,
    BadDataFormat = 5,
    TimeNotAvailable = 14,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    AddInfoNotAvailable = 17,
    SystemFailure = 25,
}

/// PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
/// failInfo PKIFailureInfo OPTIONAL }
#[derive(Clone, Debug, Sequence)]
pub struct StatusInfo<'a> {
    pub status: PkiStatus,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
#[derive(Clone, Debug, Sequence)]
pub struct TimeStampResponse<'a> {
    pub status: StatusInfo<'a>,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<x509_tsp::TimeStampToken>,
}

impl StatusInfo<'_> {
    /// The PKIFailureInfo bit numbers set.
    pub fn failures(&self) -> Vec<usize> {
        let Some(bits) = &self.fail_info else { return Vec::new() };
        bits.bits().enumerate().filter(|(_, b)| *b).map(|(i, _)| i).collect()
    }
}

/// The named-bit BIT STRING with only `bit` set (DER: no trailing zero bits).
fn one_bit(bit: u8) -> Option<BitString> {
    let n = usize::from(bit);
    let mut bytes = vec![0u8; n / 8 + 1];
    *bytes.last_mut()? = 0x80 >> (n % 8);
    BitString::new(7 - (bit % 8), bytes).ok()
}

/// Encode a response; `why` becomes the statusString.
pub fn encode(
    status: PkiStatus,
    fail: Option<FailureInfo>,
    token: Option<x509_tsp::TimeStampToken>,
    why: &str,
) -> Vec<u8> {
    let text = Utf8StringRef::new(why).ok().filter(|_| !why.is_empty());
    let resp = TimeStampResponse {
        status: StatusInfo {
            status,
            status_string: text.map(|t| vec![t]),
            fail_info: fail.and_then(|f| one_bit(f as u8)),
        },
        time_stamp_token: token,
    };
    resp.to_der().unwrap_or_else(|_| {
        // Invariant: a bare rejection always encodes (nothing in it is input-sized).
        let bare = TimeStampResponse {
            status: StatusInfo { status: PkiStatus::Rejection, status_string: None, fail_info: None },
            time_stamp_token: None,
        };
        bare.to_der().unwrap_or_default()
    })
}

/// Decode a response (as a client would).
pub fn decode(der: &[u8]) -> Result<TimeStampResponse<'_>, der::Error> {
    TimeStampResponse::from_der(der)
}
