//! The verification report of an uploaded PDF, in plain Chinese for the person at the counter:
//! one verdict line, whether the file is the licence's current version and the archived copy,
//! then each seal with each check as a sentence. The report's English details stay one click away
//! (`<details>`, no script needed).
//!
//! Knows the report's vocabulary (docs/verification-report.md) and markup; decides nothing: the
//! verdict line is the report's document verdict (`verify::verdict`: signatures, licence status,
//! use period, seal plan), so intact seals on a cancelled licence are never called valid.

use maud::{html, Markup};

use crate::verify::report::{Indication, Report, Status};
use crate::verify::verdict::Outcome;

/// How the uploaded file relates to the licence the page is about.
pub struct Match {
    /// The identifier of the licence the QR code named (None on the plain upload page).
    pub asked: Option<String>,
    /// The current version's identifier, when the licence is known to the archive.
    pub current: Option<String>,
    /// The file's bytes are exactly an archived record's.
    pub archived: bool,
}

/// The overall verdict in words and its CSS class, from the document verdict and its rule.
pub fn verdict(r: &Report) -> (&'static str, &'static str) {
    match (r.verdict.result, r.verdict.rule) {
        (Outcome::Valid, _) => ("核验通过：印章有效，文件自盖章后未被改动", "pass"),
        (_, "LICENCE_STATUS") => (
            match r.licence_status.as_ref().map(|s| s.status.as_str()) {
                Some("superseded") => "证照已变更：印章完好，但该文件不是现行有效的版本",
                Some("cancelled") => "证照已注销：印章完好，但该证照已不再有效",
                Some("revoked") => "证照已吊销：印章完好，但该证照已不再有效",
                Some("suspended") => "证照已暂停：印章完好，但该证照暂停使用",
                _ => "证照已失效：印章完好，但该证照已不再有效",
            },
            "fail",
        ),
        (_, "VALIDITY") => ("已过使用期限：印章完好，但该文件已不得再使用", "fail"),
        (Outcome::Incomplete, _) => ("尚未完成：已盖印章有效，但联合盖章还未盖齐", "unsure"),
        (_, "SEAL_PLAN") => ("核验未通过：盖章顺序或盖章部门不符合要求", "fail"),
        _ => match r.indication {
            Indication::TotalPassed | Indication::TotalFailed => ("核验未通过：该文件不可信", "fail"),
            Indication::Indeterminate => ("无法确认：缺少核验所需的信息", "unsure"),
        },
    }
}

/// A licence state of the report's licence status in words.
fn status_zh(status: &str) -> &'static str {
    match status {
        "superseded" => "变更",
        "cancelled" => "注销",
        "revoked" => "吊销",
        "suspended" => "暂停",
        _ => "失效",
    }
}

/// What an ETSI sub-indication means, in a sentence.
fn sub_indication(s: &str) -> &'static str {
    match s {
        "HASH_FAILURE" => "文件内容在盖章后被改动过。",
        "SIG_CRYPTO_FAILURE" => "签名值与签名证书不符。",
        "FORMAT_FAILURE" => "签名格式不正确或文件结构异常。",
        "REVOKED" | "REVOKED_NO_POE" | "REVOKED_CA_NO_POE" => "印章证书已被吊销。",
        "NO_CERTIFICATE_CHAIN_FOUND" | "CERTIFICATE_CHAIN_GENERAL_FAILURE" => {
            "印章证书不是由受信任的根证书签发的。"
        }
        "CHAIN_CONSTRAINTS_FAILURE" => "印章证书的证书链不符合要求。",
        "SIG_CONSTRAINTS_FAILURE" => "盖章后文件被做了不允许的修改，或盖章部门无权签发此类证照。",
        "CRYPTO_CONSTRAINTS_FAILURE" => "签名所用算法不在允许范围内。",
        "NO_SIGNING_CERTIFICATE_FOUND" => "找不到签名证书。",
        "SIGNED_DATA_NOT_FOUND" => "文件中没有电子印章。",
        "TRY_LATER" => "暂时无法取得证书吊销信息，请稍后再试。",
        "OUT_OF_BOUNDS_NO_POE" | "EXPIRED" => "印章证书已过期。",
        _ => "",
    }
}

/// One check as a sentence: (what was checked, the outcome in words).
fn check_text(name: &str, status: Status) -> (&'static str, &'static str) {
    let what = match name {
        "FORMAT" => "签名格式",
        "INTEGRITY" => "文件完整性（盖章后内容是否被改动）",
        "SIGNATURE" => "签名值",
        "SIGNING_CERTIFICATE" => "签名证书绑定",
        "KEY_USAGE" => "证书用途",
        "CHAIN" => "证书链（是否由受信任的根证书签发）",
        "REVOCATION" => "证书吊销状态",
        "DEPARTMENT" => "盖章部门及其签发权限",
        "COVERAGE" => "签名覆盖范围",
        "MODIFICATIONS" => "盖章后的修改",
        "ANNOTATION" => "加注信息",
        "TIMESTAMP" => "签名时间戳",
        "POE" => "存在性证明（签名时间）",
        "STATUS" | "LICENCE_STATUS" => "证照状态",
        _ => "其他检查",
    };
    let outcome = match status {
        Status::Passed => "通过",
        Status::Warning => "通过（有提示）",
        Status::Failed => "未通过",
        Status::Indeterminate => "无法确认",
        Status::Skipped => "未检查",
    };
    (what, outcome)
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Passed => "ok",
        Status::Warning => "warn",
        Status::Failed => "bad",
        Status::Indeterminate => "unsure",
        Status::Skipped => "skip",
    }
}

/// The report section.
pub fn report(r: &Report, m: &Match, department_name: &dyn Fn(&str) -> String) -> Markup {
    let (words, class) = verdict(r);
    let file_id = r.licence.as_ref().map(|l| l.zzbs.clone()).filter(|s| !s.is_empty());
    let same_licence = match (&m.asked, &file_id) {
        (Some(a), Some(f)) => Some(stem(a) == stem(f)),
        _ => None,
    };
    let current = match (&m.current, &file_id) {
        (Some(c), Some(f)) => Some(c == f),
        _ => None,
    };
    html! {
        section.report.(class) id="report" data-indication=(r.indication.as_str()) {
            h2 { "上传文件核验结果" }
            p.verdict id="verdict" { (words) }
            @if let Some(s) = r.sub_indication.map(sub_indication).filter(|s| !s.is_empty()) {
                p.why id="why" { (s) }
            }
            ul.facts {
                @if same_licence == Some(false) {
                    li.bad id="same-licence" { "上传的文件不是本页所示的证照。" }
                } @else {
                    @match current {
                        Some(true) if !r.passed() => li.bad id="current-version" {
                            "文件标明的版本（" (file_id.as_deref().map(super::card::short_version).unwrap_or_default())
                            "）是当前版本，但文件本身未通过核验，不能作为有效证照使用。"
                        },
                        Some(true) if r.verdict.rule == "LICENCE_STATUS" => li.bad id="current-version" {
                            "是该证照的最新版本，但该证照已" (r.licence_status.as_ref().map(|s| status_zh(&s.status)).unwrap_or("失效"))
                            "，不能作为有效证照使用。"
                        },
                        Some(true) => li.ok id="current-version" { "是当前版本：上传的文件是该证照的当前有效版本。" },
                        Some(false) => li.bad id="current-version" {
                            "不是当前版本：该证照已变更，当前版本为 "
                            (super::card::short_version(m.current.as_deref().unwrap_or_default())) "。"
                        },
                        None => li.unsure id="current-version" { "无法判断是否为当前版本：档案中没有该证照的记录。" },
                    }
                }
                @if m.archived {
                    li.ok id="archived" { "与签发部门存档的文件逐字节一致。" }
                } @else {
                    li.unsure id="archived" { "与存档文件不完全相同（可能经过合法的后续盖章，或已被改动）。" }
                }
                @if let Some(p) = r.seal_plan.as_ref().filter(|p| p.required.len() > 1) {
                    li.(if p.complete { "ok" } else { "bad" }) {
                        "联合盖章：应盖 " (p.required.len()) " 枚，已盖 " (p.present.len()) " 枚"
                        @if !p.complete { "（未完成）" } @else { "（已完成）" }
                    }
                }
                @if let Some(a) = &r.annotated_copy {
                    li.(if a.expired { "bad" } else { "ok" }) {
                        "加注件：用于 " (a.purpose_name) "，使用方 " (a.user) "，有效期至 " (a.valid_until)
                        @if a.expired { "（已过期，不得再使用）" }
                    }
                }
            }
            @for s in &r.signatures {
                div.sig {
                    h3 {
                        "第 " (s.index) " 枚印章："
                        (s.department.as_ref().map(|d| department_name(&d.id)).unwrap_or_else(|| "未知部门".into()))
                        " "
                        span.(if s.indication == Indication::TotalPassed { "ok" } else { "bad" }) {
                            (if s.indication == Indication::TotalPassed { "有效" } else { "无效" })
                        }
                    }
                    ul.checks {
                        @for c in &s.checks {
                            @let (what, outcome) = check_text(c.name, c.status);
                            li.(status_class(c.status)) data-check=(c.name) {
                                span.what { (what) } "：" span.outcome { (outcome) }
                            }
                        }
                    }
                }
            }
            details {
                summary { "技术细节（英文）" }
                pre.mono { (r.human()) }
            }
        }
    }
}

/// The identifier without version and check character (type.issuer.serial).
fn stem(identifier: &str) -> &str {
    let mut it = identifier.rsplitn(3, '.');
    it.next();
    it.next();
    it.next().unwrap_or(identifier)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stem_drops_version_and_check() {
        assert_eq!(super::stem("1.2.156.3005.2.T.I.S.002.X"), "1.2.156.3005.2.T.I.S");
    }
}
