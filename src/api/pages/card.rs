//! The licence card of the verification page: type, number, holder (masked when the holder is a
//! person), issuing department, dates, seals, and the status as a word and a large colour mark.
//!
//! Knows markup and the archive's metadata; masking follows the proofs' rule
//! (`proofs::holders::mask`). A holder is an organisation only when its code is a valid USCC
//! (GB 32100); anything else (an ID number, a holder code) is a person and is masked.

use maud::{html, Markup};

use super::standing::{Standing, State};
use crate::archive::Metadata;
use crate::config::RegionConfig;
use crate::document::identifier::uscc_is_valid;

/// The holder's name and code as the page may show them.
pub fn holder(m: &Metadata) -> (String, String) {
    if uscc_is_valid(m.holder_code.trim()) {
        return (m.holder.clone(), m.holder_code.clone());
    }
    (mask_name(&m.holder), crate::proofs::holders::mask(&m.holder_code))
}

/// A person's name: the first character, then one * per remaining character (张** ).
pub fn mask_name(name: &str) -> String {
    let mut c = name.trim().chars();
    match c.next() {
        Some(first) => std::iter::once(first).chain(c.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// The licence type: the title minus the holder (titles are `<type> <holder>`).
fn licence_type(m: &Metadata) -> &str {
    let t = m.title.trim();
    t.strip_suffix(m.holder.trim()).map(str::trim).filter(|s| !s.is_empty()).unwrap_or(t)
}

/// The status mark: a large coloured disc with the word, and a line of explanation.
pub fn status_mark(s: &Standing) -> Markup {
    let explain = match s.state {
        State::Valid => "该证照在签发部门的记录中为当前有效版本。".to_string(),
        State::Superseded => format!("该证照已变更，当前有效版本为 {}。", short_version(&s.current)),
        State::Cancelled => "该证照已由签发部门注销，不再有效。".into(),
        State::Revoked => "该证照已被依法吊销，不再有效。".into(),
        State::Expired => format!("该证照的有效期已于 {} 届满。", s.record.metadata.valid_until),
        State::Suspended => "该证照已被签发部门暂停使用。".into(),
    };
    html! {
        section.status.(s.state.class()) id="status" data-state=(s.state.class()) {
            div.mark aria-hidden="true" { (mark_glyph(s.state)) }
            div {
                p.label { "证照状态" }
                p.word id="status-text" { (s.state.text()) }
                p.explain { (explain) }
                @if let Some(t) = &s.since { p.explain id="status-since" { "状态时间：" (china_time(t)) } }
                @if let Some(r) = &s.reason { p.explain { "原因：" (r) } }
            }
        }
    }
}

fn mark_glyph(s: State) -> &'static str {
    match s {
        State::Valid => "✓",
        State::Superseded => "↻",
        State::Cancelled | State::Revoked => "✕",
        State::Expired | State::Suspended => "!",
    }
}

/// An RFC 3339 UTC time as China Standard Time, `2026-11-30 14:05` (unchanged if unreadable).
fn china_time(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(rfc3339, &Rfc3339) {
        Ok(t) => {
            let c = crate::document::china_time(t.unix_timestamp());
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                c.year(),
                u8::from(c.month()),
                c.day(),
                c.hour(),
                c.minute()
            )
        }
        Err(_) => rfc3339.to_string(),
    }
}

/// `…​.002.X` → `第 002 版`.
pub fn short_version(identifier: &str) -> String {
    let parts: Vec<&str> = identifier.rsplitn(3, '.').collect();
    match parts.get(1) {
        Some(v) if v.len() == 3 => format!("第 {v} 版"),
        _ => identifier.to_string(),
    }
}

/// The licence's facts, as a definition list.
pub fn card(region: &RegionConfig, s: &Standing) -> Markup {
    let m = &s.record.metadata;
    let (holder, holder_code) = holder(m);
    html! {
        section.card id="licence" {
            h1 id="licence-type" { (licence_type(m)) }
            dl.facts {
                dt { "持证主体" } dd id="holder" { (holder) }
                @if !holder_code.is_empty() { dt { "主体代码" } dd id="holder-code" { (holder_code) } }
                dt { "签发部门" } dd id="issuer" { (m.issuer) }
                dt { "签发日期" } dd { (m.issue_date) }
                dt { "有效期至" } dd { (if m.valid_until.is_empty() { "—" } else { &m.valid_until }) }
                dt { "版本" } dd { (short_version(&m.identifier)) }
                dt { "证照标识" } dd.mono id="identifier" { (m.identifier) }
            }
            @if !m.signers.is_empty() {
                h2 { "印章" }
                ul.seals {
                    @for (i, d) in m.signers.iter().enumerate() {
                        li { (seal_svg(i, &department_name(region, d))) span { (department_name(region, d)) } }
                    }
                }
            }
        }
    }
}

/// A department's display name, or the signer as recorded.
pub fn department_name(region: &RegionConfig, id: &str) -> String {
    region.departments.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_else(|| id.to_string())
}

/// A small round red seal (ring, star, the department's name along the arc): inline SVG, no
/// script, drawn the way the PDF's seal is.
fn seal_svg(i: usize, name: &str) -> Markup {
    let arc = format!("seal-arc-{i}");
    let size = if name.chars().count() > 10 { "9" } else { "10.5" };
    html! {
        svg.seal viewBox="0 0 100 100" width="64" height="64" role="img" aria-label=(name) {
            defs { path id=(arc) d="M 20 56 A 31 31 0 1 1 80 56" fill="none" {} }
            circle cx="50" cy="50" r="46" fill="none" stroke="#c8102e" stroke-width="4" {}
            text font-size=(size) fill="#c8102e" {
                textPath href=(format!("#{arc}")) startOffset="50%" text-anchor="middle" { (name) }
            }
            polygon fill="#c8102e"
                points="50,34 54.1,45.4 66.2,45.8 56.6,53.2 60,64.8 50,58 40,64.8 43.4,53.2 33.8,45.8 45.9,45.4" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persons_are_masked_and_organisations_are_not() {
        let mut m = Metadata {
            holder: "泰安市示例云岭科技有限公司".into(),
            holder_code: "91370900MA3C00001T".into(),
            ..Metadata::default()
        };
        assert_eq!(holder(&m), (m.holder.clone(), m.holder_code.clone()));
        m.holder = "测试员甲".into();
        m.holder_code = "370902199001011235".into();
        assert_eq!(holder(&m), ("测***".into(), "3709**********1235".into()));
        assert_eq!(short_version("1.2.156.3005.2.T.I.S.002.X"), "第 002 版");
    }
}
