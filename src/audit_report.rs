//! The DA/T 70 audit report an archivist can file (电子档案检测报告): the four-property results of
//! `archive::audit` as a PDF — page 1 the summary (template `audit-report`), then one table per
//! property and the list of every problem with its record (document/report.rs) — sealed by the
//! department that keeps the archive (the platform, 大数据中心) and filed in the archive itself,
//! so every audit leaves evidence in the log it audited.
//!
//! Turns numbers into words; knows nothing of how the audit checks (archive/audit.rs, filing.rs).

use crate::archive::audit::AuditReport;
use crate::archive::Archive;
use crate::config::Home;
use crate::document::report::{append_pages, Block};
use crate::document::{self, RenderInput, Template};
use crate::error::Result;
use crate::pades::{self, SealRequest};
use crate::pki::SealSigner;

/// The department that keeps the archive and seals its audit reports.
pub const KEEPER: &str = crate::proofs::annotate::PLATFORM;

/// A written report.
pub struct Written {
    pub pdf: Vec<u8>,
    pub report_no: String,
    /// The archive record the report was filed as.
    pub record: String,
}

/// One property: key, Chinese name, what was checked (item, method).
type Property = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

/// The four properties: key, Chinese name, what was checked (item, method) for each.
const PROPERTIES: [Property; 4] = [
    (
        "authentic",
        "真实性",
        &[
            (
                "电子签章有效",
                "逐份重新验证文件的全部电子签章：完整性、签名值、证书链至区域根证书、撤销状态、签章部门",
            ),
            ("记录在日志中", "每条记录的日志序号唯一，且该序号的叶子哈希与记录一致"),
        ],
    ),
    ("intact", "完整性", &[("固定性（哈希值）", "重新计算每份文件的 SHA-256，与归档时记录的哈希值比对")]),
    ("usable", "可用性", &[("可解析、可读取", "解析 PDF 结构并提取第 1 页文字；日志条目解析为 JSON")]),
    (
        "secure",
        "安全性",
        &[
            (
                "日志根与签名树头",
                "由全部叶子重算默克尔树根，与检测单位签名的树头比对；已公布的树头均为当前日志的前缀",
            ),
            ("无游离记录", "日志外无记录，无缺少记录的叶子"),
        ],
    ),
];

fn count(r: &AuditReport, property: &str) -> usize {
    r.problems.iter().filter(|p| p.property == property).count()
}

fn verdict(n: usize) -> String {
    if n == 0 {
        "通过（0 个问题）".into()
    } else {
        format!("未通过（{n} 个问题）")
    }
}

/// The continuation pages: a table per property, then every problem with its record.
fn blocks(r: &AuditReport) -> Vec<Block> {
    let mut out = vec![
        Block::Heading("一、检测概况".into()),
        Block::Text(format!(
            "档案记录 {} 条，复核文件 {} 份（{} 字节），日志大小 {}，发现问题 {} 个。",
            r.records,
            r.checked,
            r.bytes_checked,
            r.log_size,
            r.problems.len()
        )),
    ];
    let numerals = ["二", "三", "四", "五", "六"];
    for (i, (key, name, items)) in PROPERTIES.iter().enumerate() {
        out.push(Block::Heading(format!("{}、{name}检测", numerals.get(i).unwrap_or(&""))));
        let mut rows: Vec<Vec<String>> =
            items.iter().map(|(item, how)| vec![item.to_string(), how.to_string(), String::new()]).collect();
        if let Some(last) = rows.last_mut() {
            if let Some(cell) = last.get_mut(2) {
                *cell = verdict(count(r, key));
            }
        }
        out.push(Block::Table {
            columns: vec![("检测项目".into(), 110.0), ("检测方法".into(), 250.0), ("结果".into(), 115.0)],
            rows,
        });
    }
    out.push(Block::Heading("六、问题清单".into()));
    if r.problems.is_empty() {
        out.push(Block::Text("未发现问题。".into()));
    } else {
        let name = |k: &str| PROPERTIES.iter().find(|p| p.0 == k).map(|p| p.1).unwrap_or("其他");
        out.push(Block::Table {
            columns: vec![
                ("序号".into(), 35.0),
                ("档案记录".into(), 135.0),
                ("性质".into(), 55.0),
                ("问题".into(), 250.0),
            ],
            rows: r
                .problems
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    vec![(i + 1).to_string(), p.record.clone(), name(p.property).into(), p.reason.clone()]
                })
                .collect(),
        });
    }
    out
}

/// Write, seal and file the report of audit `r` over `archive` (the archive this process holds).
pub fn write(home: &Home, archive: &Archive, r: &AuditReport) -> Result<Written> {
    let region = home.region()?;
    let dept = region.department(KEEPER)?.clone();
    let t = builtin_or_home(home)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let date = document::china_date(now);
    let report_no = crate::proofs::random_id("AR")?;
    let total = r.problems.len();
    let data = t.check(&serde_json::json!({
        "report_no": report_no,
        "archive": format!("{}电子证照档案库（单套制）", region.region.name),
        "archive_code": region.region.id,
        "basis": "DA/T 70-2018 文书类电子档案检测一般要求",
        "audited": date,
        "scope": format!("档案记录 {} 条，复核文件 {} 份，日志大小 {}", r.records, r.checked, r.log_size),
        "authentic": verdict(count(r, "authentic")),
        "intact": verdict(count(r, "intact")),
        "usable": verdict(count(r, "usable")),
        "secure": verdict(count(r, "secure")),
        "conclusion": if r.clean { "四性检测全部通过".to_string() } else { format!("发现 {total} 个问题，见问题清单") },
    }))?;
    let serial = format!("{}{}", date.replace('-', ""), report_no.get(2..).unwrap_or(""));
    let input = RenderInput {
        template: &t,
        data: &data,
        issuer: &dept,
        region: &region.region,
        issue_date: date,
        serial,
        version: 1,
        plan: vec![dept.clone()],
    };
    let first = document::render(&input)?;
    let no = report_no.clone();
    let body = append_pages(&first.pdf, &blocks(r), &|page, pages| {
        format!("电子档案检测报告 {no}　第 {page} 页，共 {pages} 页")
    })?;
    let signer = SealSigner::load(home, KEEPER)?;
    let pdf = pades::seal(
        &body,
        &SealRequest {
            signer: &signer,
            rect: document::seal_slot(0, 1),
            field_name: document::seal_field_name(0, &dept.id),
            reason: format!("{}出具电子档案检测报告", dept.name),
            location: region.region.name.clone(),
            certify: true,
            lock: false,
            appearance: pades::Appearance::Seal,
            extra: Vec::new(),
        },
    )?;
    let trust = crate::trust::TrustStore::from_home(home)?;
    let meta = crate::filing::verified_metadata(&format!("{report_no}.pdf"), &pdf, &trust, "audit-report")?;
    let filed = crate::filing::append_verified(home, archive, vec![(pdf.as_slice(), meta)])?;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    let record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    Ok(Written { pdf, report_no, record })
}

/// The `audit-report` template: the home's copy if customised, else the built-in one.
fn builtin_or_home(home: &Home) -> Result<Template> {
    if home.templates_dir().join("audit-report.toml").exists() {
        return Template::load(home, "audit-report");
    }
    let text = document::template::BUILTIN
        .iter()
        .find(|(n, _)| *n == "audit-report")
        .map(|(_, t)| *t)
        .unwrap_or_default();
    Template::parse(text, "audit-report")
}
