//! Licence metadata after GB/T 36903 (items and pinyin-initial tags as used in practice), written
//! into the document Info dictionary and an XMP packet, and read back by the verifier.

use lopdf::{Dictionary, Object};
use serde::{Deserialize, Serialize};

/// XMP namespace for the GB/T 36903 items (the standard defines no XMP binding; ours is documented
/// in docs/standards.md).
pub const XMP_NS: &str = "urn:zhengyin:ns:gbt36903:1.0/";

/// The core GB/T 36903 items carried by every licence.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LicenceMetadata {
    /// 证照标识 (GB/T 36904 identifier)
    pub zzbs: String,
    /// 证照名称
    pub zzmc: String,
    /// 证照类型代码
    pub zzlxdm: String,
    /// 证照编号
    pub zzbh: String,
    /// 证照颁发机构
    pub zzbfjg: String,
    /// 证照颁发机构代码
    pub zzbfjgdm: String,
    /// 证照颁发日期 (YYYY-MM-DD)
    pub zzbfrq: String,
    /// 持证主体
    pub czzt: String,
    /// 持证主体代码
    pub czztdm: String,
    /// 持证主体代码类型
    pub czztdmlx: String,
    /// 持证主体代码类型代码 (001 USCC, 111 resident ID)
    pub czztdmlxdm: String,
    /// 证照有效期起始日期
    pub zzyxqqsrq: String,
    /// 证照有效期截止日期 (or 长期)
    pub zzyxqjzrq: String,
}

impl LicenceMetadata {
    /// (tag, Chinese name, value) for every item, in the standard's order.
    pub fn items(&self) -> [(&'static str, &'static str, &str); 13] {
        [
            ("ZZBS", "证照标识", &self.zzbs),
            ("ZZMC", "证照名称", &self.zzmc),
            ("ZZLXDM", "证照类型代码", &self.zzlxdm),
            ("ZZBH", "证照编号", &self.zzbh),
            ("ZZBFJG", "证照颁发机构", &self.zzbfjg),
            ("ZZBFJGDM", "证照颁发机构代码", &self.zzbfjgdm),
            ("ZZBFRQ", "证照颁发日期", &self.zzbfrq),
            ("CZZT", "持证主体", &self.czzt),
            ("CZZTDM", "持证主体代码", &self.czztdm),
            ("CZZTDMLX", "持证主体代码类型", &self.czztdmlx),
            ("CZZTDMLXDM", "持证主体代码类型代码", &self.czztdmlxdm),
            ("ZZYXQQSRQ", "证照有效期起始日期", &self.zzyxqqsrq),
            ("ZZYXQJZRQ", "证照有效期截止日期", &self.zzyxqjzrq),
        ]
    }

    /// Read the items back from an Info dictionary (missing items stay empty).
    pub fn from_info(info: &Dictionary) -> Option<Self> {
        let get = |k: &str| info.get(k.as_bytes()).ok().and_then(decode_text).unwrap_or_default();
        let m = LicenceMetadata {
            zzbs: get("ZZBS"),
            zzmc: get("ZZMC"),
            zzlxdm: get("ZZLXDM"),
            zzbh: get("ZZBH"),
            zzbfjg: get("ZZBFJG"),
            zzbfjgdm: get("ZZBFJGDM"),
            zzbfrq: get("ZZBFRQ"),
            czzt: get("CZZT"),
            czztdm: get("CZZTDM"),
            czztdmlx: get("CZZTDMLX"),
            czztdmlxdm: get("CZZTDMLXDM"),
            zzyxqqsrq: get("ZZYXQQSRQ"),
            zzyxqjzrq: get("ZZYXQJZRQ"),
        };
        (!m.zzbs.is_empty()).then_some(m)
    }

    /// The XMP packet (dc + xmp + pdf + our GB/T 36903 namespace, PDF/A-2b identification and
    /// the extension schema describing our namespace). Title, creator, description, keywords,
    /// creator tool, producer and creation date equal the Info dictionary's (ISO 19005-2 §6.6.3).
    pub fn xmp(&self, producer: &str, created: &str) -> String {
        let props: Vec<(&str, &str)> = self.items().iter().map(|(t, name, _)| (*t, *name)).collect();
        let mut zz = String::new();
        for (tag, _, v) in self.items() {
            zz.push_str(&format!("   <zz:{tag}>{}</zz:{tag}>\n", xml_escape(v)));
        }
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
  <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:zz=\"{XMP_NS}\">\n\
   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
   <dc:creator><rdf:Seq><rdf:li>{issuer}</rdf:li></rdf:Seq></dc:creator>\n\
   <dc:identifier>{id}</dc:identifier>\n\
   <dc:language><rdf:Bag><rdf:li>zh-CN</rdf:li></rdf:Bag></dc:language>\n\
   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{subject}</rdf:li></rdf:Alt></dc:description>\n\
   <xmp:CreateDate>{created}</xmp:CreateDate>\n\
   <xmp:CreatorTool>{producer}</xmp:CreatorTool>\n\
   <pdf:Producer>{producer}</pdf:Producer>\n\
   <pdf:Keywords>{id}</pdf:Keywords>\n{zz}  </rdf:Description>\n{pdfa} </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
            pdfa = super::pdfa::xmp_descriptions(XMP_NS, "zz", "GB/T 36903 licence metadata (zhengyin)", &props),
            subject = xml_escape(&self.zzmc),
            title = xml_escape(&format!("{} {}", self.zzmc, self.czzt)),
            issuer = xml_escape(&self.zzbfjg),
            id = xml_escape(&self.zzbs),
        )
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A PDF text string: PDFDocEncoding-safe ASCII as a literal, anything else UTF-16BE with a BOM.
pub fn text_object(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::string_literal(s)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            bytes.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(bytes, lopdf::StringFormat::Hexadecimal)
    }
}

/// Decode a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or Latin-1-ish bytes).
pub fn decode_text(o: &Object) -> Option<String> {
    let bytes = o.as_str().ok()?;
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return Some(String::from_utf16_lossy(&units));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return Some(String::from_utf8_lossy(rest).into_owned());
    }
    Some(bytes.iter().map(|&b| char::from(b)).collect())
}

#[cfg(test)]
mod tests {
    use super::xml_escape;

    /// The four characters XMP text may not hold bare are escaped once each (an `&` of an
    /// escape is not escaped again); everything else, CJK included, is kept.
    #[test]
    fn xml_escape_escapes_markup_once() {
        assert_eq!(xml_escape(r#"A&B <c> "d" 泰安&lt;"#), "A&amp;B &lt;c&gt; &quot;d&quot; 泰安&amp;lt;");
        assert_eq!(xml_escape("泰安市岱宗商贸有限公司"), "泰安市岱宗商贸有限公司");
    }
}
