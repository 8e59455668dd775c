//! Annotated copies (加注件) are bound to the platform seal (issue 11 point 2, docs/proofs.md): the
//! reserved `Annotation_dsjzx` field signed by anyone but the region's platform (`dsjzx`), items
//! naming a maker that did not sign, or a purpose that is not a listed use of the named user, make
//! the copy fail (exit 1, an ANNOTATION check saying why); a genuine `licence use` copy passes
//! zhengyin and the outside validators.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use lopdf::dictionary;
use zhengyin::config::Home;
use zhengyin::document::metadata::text_object;
use zhengyin::document::watermark::{ANNOTATION_FIELD, ANNOTATION_RECT};
use zhengyin::pades::{self, Appearance, SealRequest};

struct Items<'a> {
    maker: &'a str,
    maker_id: &'a str,
    purpose: &'a str,
    user: &'a str,
    user_id: &'a str,
}

const XZSP: Items<'static> = Items {
    maker: "泰安市大数据中心",
    maker_id: "dsjzx",
    purpose: "370900-XK-0001",
    user: "泰安市行政审批服务局",
    user_id: "xzsp",
};

/// Sign the reserved annotation field of `licence` with `dept`'s real key through the library's
/// signing functions, with the given items — what an outsider holding that key could do.
fn sign_annotation(r: &Region, licence: &Path, dept: &str, items: &Items<'_>, out: &str) -> PathBuf {
    let home = Home { dir: r.home.clone() };
    let signer = zhengyin::pki::SealSigner::load(&home, dept).expect("signer");
    let dict = dictionary! {
        "Type" => "ZYAnnotatedCopy",
        "Maker" => text_object(items.maker), "MakerId" => text_object(items.maker_id),
        "Time" => text_object("2026-01-01T00:00:00Z"),
        "Purpose" => text_object(items.purpose), "PurposeName" => text_object("人力资源服务许可"),
        "User" => text_object(items.user), "UserId" => text_object(items.user_id),
        "ValidUntil" => text_object("2099-12-31"),
        "Licence" => text_object("x"),
    };
    let pdf = pades::seal(
        &std::fs::read(licence).expect("licence"),
        &SealRequest {
            signer: &signer,
            rect: ANNOTATION_RECT,
            field_name: ANNOTATION_FIELD.to_string(),
            reason: "加注件".into(),
            location: "泰安市".into(),
            certify: false,
            lock: false,
            appearance: Appearance::Watermark {
                headline: "仅供泰安市行政审批服务局办理人力资源服务许可使用",
                detail: "有效期至 2099-12-31 · 泰安市大数据中心加注",
            },
            extra: vec![("ZYAnnotation", lopdf::Object::Dictionary(dict))],
        },
    )
    .expect("seal");
    let path = r.path(out);
    std::fs::write(&path, pdf).expect("write");
    path
}

fn annotation_check(v: &serde_json::Value) -> (String, String) {
    let sig = v["signatures"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["field"] == ANNOTATION_FIELD))
        .expect("annotation signature");
    let c = sig["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "ANNOTATION"))
        .expect("ANNOTATION check");
    (c["status"].as_str().unwrap_or("").to_string(), c["detail"].as_str().unwrap_or("").to_string())
}

/// xzsp signing the platform's field as the platform, the platform naming another maker, and the
/// platform annotating an unlisted use are each refused; the genuine copy passes everywhere.
#[test]
fn annotated_copies_not_made_by_the_platform_for_a_listed_use_are_refused() {
    let r = Region::init();
    let (licence, _) = r.issue("business-licence", None, "licence.pdf");
    let cases: [(&str, &str, Items<'_>, &str); 4] = [
        ("xzsp-as-platform", "xzsp", XZSP, "not by the platform `dsjzx`"),
        (
            "platform-names-other-maker",
            "dsjzx",
            Items { maker: "泰安市行政审批服务局", maker_id: "xzsp", ..XZSP },
            "maker",
        ),
        ("unlisted-purpose", "dsjzx", Items { purpose: "370900-XX-9999", ..XZSP }, "not a listed use"),
        (
            "user-not-allowed",
            "dsjzx",
            Items { user: "泰安市市场监督管理局", user_id: "scjg", ..XZSP },
            "not a listed use",
        ),
    ];
    for (name, dept, items, why) in cases {
        let copy = sign_annotation(&r, &licence, dept, &items, &format!("{name}.pdf"));
        let v = r.verify_json(&copy);
        v.assert_code(1);
        let j = v.json();
        assert_ne!(j["indication"], "TOTAL-PASSED", "{name}: {}", v.both());
        let (status, detail) = annotation_check(&j);
        assert_eq!(status, "FAILED", "{name}: {detail}");
        assert!(detail.contains(why), "{name}: expected `{why}` in {detail}");
    }
    // The genuine copy: TOTAL-PASSED with a passed ANNOTATION check, and the outside validators agree.
    let copy = r.path("genuine.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&licence),
        "--by",
        "xzsp",
        "--purpose",
        "370900-XK-0001",
        "-o",
        s(&copy),
    ])
    .assert_code(0);
    let v = r.verify_json(&copy);
    v.assert_code(0);
    assert_eq!(annotation_check(&v.json()).0, "PASSED", "{}", v.both());
    assert_outside_validators(&r, &copy, 2);
}
