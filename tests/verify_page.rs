//! The QR verification page (扫码核验) end to end: a licence is issued with the CLI, the real
//! `zhengyin serve` runs on 127.0.0.1, and the page is read over plain HTTP (headers, the no-script
//! form, unknown and malformed identifiers, oversize uploads) and in headless Chromium, opened at
//! the URL decoded from the QR code printed on the licence's first page.

mod api_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use api_support::{call, Resp};
use common::{creation_date_digit, run_in, s, Region};

/// The real server, killed on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `zhengyin serve` for `home` on a free loopback port, with `extra` arguments.
fn serve(home: &Path, extra: &[&str]) -> Serve {
    serve_on(home, "127.0.0.1:0", extra)
}

/// `zhengyin serve` for `home` listening on `listen`.
fn serve_on(home: &Path, listen: &str, extra: &[&str]) -> Serve {
    use std::io::BufRead;
    let mut child = Command::new(common::BIN)
        .args(["serve", "--listen", listen, "--refresh-secs", "0", "--rate-limit", "0", "--home"])
        .arg(home)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn zhengyin serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.split_whitespace().last().unwrap_or_default().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "serve said: {line}");
    Serve { child, url }
}

/// A region with one business licence issued by the CLI: (region, PDF path, identifier).
fn issued() -> (Region, PathBuf, String) {
    let r = Region::init();
    let (pdf, run) = r.issue("business-licence", None, "licence.pdf");
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier").map(|x| x.trim().to_string()))
        .expect("issue prints the identifier");
    (r, pdf, id)
}

fn get(url: &str) -> (Resp, Vec<(String, String)>) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let res = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    let headers = res
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), res.header(&n).unwrap_or_default().to_string()))
        .collect();
    let status = res.status();
    let content_type = res.header("content-type").unwrap_or_default().to_string();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut res.into_reader(), &mut body).expect("body");
    (Resp { status, content_type, body }, headers)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// POST the page's form as a browser without script does: multipart/form-data, field `pdf`.
fn upload(url: &str, field: &str, pdf: &[u8]) -> Resp {
    let boundary = "----zhengyin-test-7d1f0c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"licence.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    call("POST", url, None, Some((&format!("multipart/form-data; boundary={boundary}"), &body)), None)
}

/// Every page answer carries these, errors included.
fn assert_security_headers(h: &[(String, String)]) {
    let csp = header(h, "content-security-policy");
    for part in ["default-src 'self'", "frame-ancestors 'none'", "script-src 'self'", "form-action 'self'"] {
        assert!(csp.contains(part), "CSP lacks {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "CSP allows inline code: {csp}");
    assert_eq!(header(h, "x-content-type-options"), "nosniff");
    assert_eq!(header(h, "referrer-policy"), "no-referrer");
    assert_eq!(header(h, "x-frame-options"), "DENY");
    assert_eq!(header(h, "cache-control"), "no-store");
}

/// Nothing the CSP would block: no inline script, no inline style, no off-site URL.
fn assert_no_inline_code(html: &str) {
    assert!(!html.contains("<script>"), "inline script in the page");
    for bad in [" style=", "<style", " onclick=", " onload=", "javascript:", "http://", "https://"] {
        assert!(!html.contains(bad), "the page holds `{bad}`");
    }
}

/// The QR code's URL opens a Chinese page naming the licence, its holder, issuer and status 有效,
/// with the security headers, no inline code, and an upload form that works without script.
#[test]
fn page_shows_the_licence_and_its_status_with_security_headers() {
    let (r, _pdf, id) = issued();
    let srv = serve(&r.home, &[]);
    let (resp, h) = get(&format!("{}/verify?id={id}", srv.url));
    assert_eq!(resp.status, 200, "{}", text(&resp));
    assert_eq!(resp.content_type, "text/html; charset=utf-8");
    assert_security_headers(&h);
    let html = text(&resp);
    assert_no_inline_code(&html);
    for want in [
        "lang=\"zh-CN\"",
        "id=\"status-text\">有效<",
        "营业执照",
        "泰安市示例云岭科技有限公司",
        "91370900MA3C00001T",
        "泰安市市场监督管理局",
        id.as_str(),
        "enctype=\"multipart/form-data\"",
        "name=\"pdf\"",
    ] {
        assert!(html.contains(want), "page lacks {want}:\n{html}");
    }
    // The stylesheet and script it links are served from here, with the same headers.
    for asset in ["css", "js"] {
        let path = html
            .split('"')
            .find(|p| p.starts_with("/assets/page-") && p.ends_with(&format!(".{asset}")))
            .unwrap_or_else(|| panic!("no .{asset} link in the page"));
        let (a, ah) = get(&format!("{}{path}", srv.url));
        assert_eq!(a.status, 200);
        assert_eq!(header(&ah, "x-content-type-options"), "nosniff");
        assert!(!text(&a).contains("http"), "asset {path} refers off-site");
    }
}

/// An unknown identifier is a 404 page, a malformed one (bad check character, junk, huge, bad
/// percent-encoding) a 400 page, never a 500 or JSON; no identifier gives the upload page.
#[test]
fn unknown_and_malformed_identifiers_get_clear_pages() {
    let (r, _pdf, id) = issued();
    let srv = serve(&r.home, &[]);
    // Same shape, another serial (check character recomputed): well-formed but not in the archive.
    let parsed: zhengyin::document::LicenceId = id.parse().expect("identifier");
    let known =
        zhengyin::document::LicenceId::new(&parsed.type_code, &parsed.issuer_code, "20261130ZZZZZZZZZZ", 1)
            .expect("identifier");
    let (resp, h) = get(&format!("{}/verify?id={known}", srv.url));
    assert_eq!(resp.status, 404, "{}", text(&resp));
    assert!(resp.content_type.starts_with("text/html"));
    assert!(text(&resp).contains("未找到该证照"), "{}", text(&resp));
    assert_security_headers(&h);

    let wrong_check = format!("{}.{}", &id[..id.len() - 2], if id.ends_with('A') { 'B' } else { 'A' });
    let long = "1".repeat(5000);
    for bad in [
        wrong_check.as_str(),
        "hello",
        "1.2.156.3005.2...",
        long.as_str(),
        "%FF%FE",
        "<script>alert(1)</script>",
    ] {
        let (resp, h) = get(&format!("{}/verify?id={bad}", srv.url));
        assert_eq!(resp.status, 400, "{bad}: {}", text(&resp));
        assert!(resp.content_type.starts_with("text/html"), "{bad}: {}", resp.content_type);
        assert!(text(&resp).contains("二维码内容无法识别") || text(&resp).contains("链接无法识别"));
        assert!(!text(&resp).contains("<script>alert"), "the identifier is echoed unescaped");
        assert_security_headers(&h);
    }
    let (resp, _) = get(&format!("{}/verify", srv.url));
    assert_eq!(resp.status, 200);
    assert!(text(&resp).contains("name=\"pdf\""));
}

/// The form posted as a browser without script posts it: the genuine PDF reports 核验通过, is the
/// current version and the archived bytes; one changed byte reports 核验未通过 with the reason;
/// a file that is not a PDF, or no file, is a 400 page.
#[test]
fn form_upload_without_script_reports_in_chinese() {
    let (r, pdf, id) = issued();
    let srv = serve(&r.home, &[]);
    let genuine = std::fs::read(&pdf).expect("pdf");
    let page = format!("{}/verify?id={id}", srv.url);

    let resp = upload(&page, "pdf", &genuine);
    assert_eq!(resp.status, 200, "{}", text(&resp));
    let html = text(&resp);
    for want in [
        "data-indication=\"TOTAL-PASSED\"",
        "核验通过",
        "是当前版本",
        "逐字节一致",
        "id=\"status-text\">有效<",
        "data-check=\"INTEGRITY\"",
    ] {
        assert!(html.contains(want), "genuine upload lacks {want}:\n{html}");
    }

    let mut tampered = genuine.clone();
    tampered[creation_date_digit(&genuine)] ^= 0x01;
    let resp = upload(&page, "pdf", &tampered);
    assert_eq!(resp.status, 200, "{}", text(&resp));
    let html = text(&resp);
    for want in
        ["data-indication=\"TOTAL-FAILED\"", "核验未通过", "文件内容在盖章后被改动过", "与存档文件不完全相同"]
    {
        assert!(html.contains(want), "tampered upload lacks {want}:\n{html}");
    }
    assert!(!html.contains("核验通过："), "a tampered file is called valid");
    assert!(!html.contains(">是当前版本："), "a tampered file is called the current version");
    assert!(html.contains("不能作为有效证照使用"), "{html}");

    let resp = upload(&page, "pdf", b"this is not a PDF");
    assert_eq!(resp.status, 400, "{}", text(&resp));
    assert!(resp.content_type.starts_with("text/html"));
    assert!(text(&resp).contains("无法核验该文件"));
    let resp = upload(&page, "other", &genuine);
    assert_eq!(resp.status, 400, "{}", text(&resp));
    assert!(text(&resp).contains("没有收到文件"));

    // Without an identifier the page verifies the file and finds its licence by itself.
    let resp = upload(&format!("{}/verify", srv.url), "pdf", &genuine);
    assert_eq!(resp.status, 200);
    assert!(text(&resp).contains("是当前版本") && text(&resp).contains(&id));
}

/// POST a multipart body over a raw connection: announced with `Content-Length: announce` (and
/// not sent), or chunked. The raw response, or None if the server reset the connection (it may,
/// having refused a body it did not read to the end).
fn raw_upload(url: &str, path: &str, announce: Option<usize>, body: &[u8]) -> Option<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(url.trim_start_matches("http://")).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(60))).expect("timeout");
    let framing = match announce {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_string(),
    };
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: zy\r\nContent-Type: multipart/form-data; boundary=b0undary\r\n\
         {framing}Connection: close\r\n\r\n"
    )
    .into_bytes();
    if announce.is_none() {
        req.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        req.extend_from_slice(body);
        req.extend_from_slice(b"\r\n0\r\n\r\n");
    }
    let _ = c.write_all(&req);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// An upload over the server's body limit is a 413 page with the security headers, as large
/// bodies are for POST /v1/verify: announced (answered from the head alone) or streamed.
#[test]
fn oversize_upload_is_a_413_page() {
    let (r, pdf, id) = issued();
    let genuine = std::fs::read(&pdf).expect("pdf");
    let limit = genuine.len() / 2;
    let srv = serve(&r.home, &["--body-limit", &limit.to_string()]);
    let path = format!("/verify?id={id}");
    let resp = raw_upload(&srv.url, &path, Some(genuine.len() + 200), b"").expect("an answer");
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    let lower = resp.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/html"), "{resp}");
    assert!(lower.contains("content-security-policy: default-src 'self'"), "{resp}");
    assert!(resp.contains("文件太大"), "{resp}");
    // Streamed without a length: the multipart reader stops at the limit.
    let mut body =
        b"--b0undary\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"a.pdf\"\r\n\r\n".to_vec();
    body.extend_from_slice(&genuine);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    if let Some(resp) = raw_upload(&srv.url, &path, None, &body) {
        assert!(resp.starts_with("HTTP/1.1 413"), "a streamed upload over the limit was read: {resp}");
        assert!(resp.contains("文件太大"), "{resp}");
    }
    // The same limit holds for the API route; a file under it still verifies on the page.
    raw_upload(&srv.url, "/v1/verify", Some(genuine.len()), b"")
        .filter(|r| r.starts_with("HTTP/1.1 413") && r.contains("application/problem+json"))
        .expect("POST /v1/verify refuses the same size");
    assert_eq!(upload(&format!("{}{path}", srv.url), "pdf", b"%PDF-1.7 tiny").status, 400);
}

/// A licence whose validity period has ended shows 已过期, not 有效.
#[test]
fn expired_licence_says_expired() {
    let r = Region::init();
    let mut data = common::sample_data("food-business-licence");
    data.insert("valid_from".into(), "2020-01-01".into());
    data.insert("valid_until".into(), "2021-12-31".into());
    let data_path = r.path("expired.json");
    std::fs::write(&data_path, serde_json::to_vec(&data).expect("json")).expect("write");
    let out = r.path("expired.pdf");
    let run = r.zy(&[
        "issue",
        "--home",
        s(&r.home),
        "--template",
        "food-business-licence",
        "--data",
        s(&data_path),
        "-o",
        s(&out),
    ]);
    run.assert_code(0);
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("identifier").map(|x| x.trim().to_string()))
        .expect("identifier");
    let srv = serve(&r.home, &[]);
    let (resp, _) = get(&format!("{}/verify?id={id}", srv.url));
    assert_eq!(resp.status, 200);
    let html = text(&resp);
    assert!(html.contains("id=\"status-text\">已过期<"), "{html}");
    assert!(html.contains("2021-12-31"));
}

/// The URL in the QR code on page 1 of `pdf` (pdftoppm at 150 dpi, zbarimg).
fn qr_url(r: &Region, pdf: &Path, name: &str) -> String {
    let prefix = r.path(name);
    let o =
        run_in(r.dir.path(), "pdftoppm", &["-r", "150", "-png", "-f", "1", "-l", "1", s(pdf), s(&prefix)]);
    assert_eq!(o.code, 0, "{}", o.both());
    let png = std::fs::read_dir(r.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}-"))))
        .expect("pdftoppm wrote a page");
    let o = run_in(r.dir.path(), "zbarimg", &["--raw", "-q", s(&png)]);
    assert_eq!(o.code, 0, "zbarimg found no code: {}", o.both());
    o.stdout.trim().to_string()
}

/// Keep the QR URL's path and query; put the test server's scheme, host and port in front.
fn on_server(qr: &str, server: &str) -> String {
    let after_scheme = qr.split_once("://").map(|(_, r)| r).unwrap_or(qr);
    let path = after_scheme.find('/').map(|i| &after_scheme[i..]).unwrap_or("/");
    format!("{server}{path}")
}

/// In headless Chromium, the URL decoded from the licence's printed QR code (the region's public
/// URL, `init --public-url`, where the server listens; opened unchanged) shows 有效 and the
/// licence; uploading the genuine PDF through the form (script off) reports 核验通过 and the
/// current version, a tampered one (script on) 核验未通过; no console or CSP errors, nothing
/// wider than a 375 px phone. Screenshots: target/test-artifacts/verify-page/.
#[test]
fn qr_code_opens_the_page_in_chromium() {
    if !common::browser::ready() {
        return;
    }
    // The region's public URL is where this test's server listens: the QR code is opened as is.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let public = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    common::zy(dir.path(), &["init", "--home", s(&home), "--public-url", &public]).assert_code(0);
    let r = Region { dir, home };
    let (pdf, run) = r.issue("business-licence", None, "licence.pdf");
    let id = printed(&run, "identifier");
    let url = qr_url(&r, &pdf, "page");
    assert_eq!(url, format!("{public}/verify?id={id}"), "the QR code does not carry the public URL");
    let _srv = serve_on(&r.home, &format!("127.0.0.1:{port}"), &[]);

    let v = common::browser::browse(
        r.dir.path(),
        "verify-page",
        &url,
        "valid",
        &["--upload", s(&pdf), "--no-js"],
    );
    let p = &v["page"];
    assert_eq!(p["status_text"], "有效", "{v:#}");
    assert_eq!(p["status_state"], "valid");
    assert_eq!(p["licence_type"], "营业执照");
    assert_eq!(p["holder"], "泰安市示例云岭科技有限公司");
    assert_eq!(p["issuer"], "泰安市市场监督管理局");
    assert_eq!(p["identifier"], id.as_str());
    assert_eq!(p["seals"], 1);
    assert_eq!(p["has_form"], true);
    let rep = &v["report"];
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{v:#}");
    assert!(rep["verdict"].as_str().is_some_and(|t| t.starts_with("核验通过")), "{v:#}");
    assert!(rep["current_version"].as_str().is_some_and(|t| t.starts_with("是当前版本")), "{v:#}");
    assert_eq!(v["console"], serde_json::json!([]), "browser console: {v:#}");

    let mut tampered = std::fs::read(&pdf).expect("pdf");
    let at = creation_date_digit(&tampered);
    tampered[at] ^= 0x01;
    let bad = r.path("tampered.pdf");
    std::fs::write(&bad, &tampered).expect("write");
    let v = common::browser::browse(r.dir.path(), "verify-page", &url, "tampered", &["--upload", s(&bad)]);
    assert_eq!(v["page"]["phone_overflow"], false, "the page is wider than a phone: {v:#}");
    let rep = &v["report"];
    assert_eq!(rep["indication"], "TOTAL-FAILED", "{v:#}");
    assert!(rep["verdict"].as_str().is_some_and(|t| t.starts_with("核验未通过")), "{v:#}");
    assert!(rep["why"].as_str().is_some_and(|t| t.contains("改动")), "{v:#}");
    assert!(rep["current_version"].as_str().is_some_and(|t| t.contains("未通过核验")), "{v:#}");
    assert_eq!(v["console"], serde_json::json!([]), "browser console: {v:#}");
    for f in ["valid-desktop.png", "valid-phone.png", "tampered-report-phone.png"] {
        assert!(common::browser::artifacts("verify-page").join(f).is_file(), "no screenshot {f}");
    }
}

/// The identifier line of an `issue` run, or the `new version` line of a lifecycle run.
fn printed(run: &common::Run, label: &str) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(label).map(|x| x.trim().to_string()))
        .unwrap_or_else(|| panic!("no `{label}` line\n{}", run.both()))
}

/// A region after the lifecycle: licence A changed (变更: version 001 superseded by 002), B
/// cancelled (注销), C revoked (吊销). Returns (region, A v1 PDF, A v2 PDF, B PDF, ids A1 A2 B C).
fn after_lifecycle() -> (Region, PathBuf, PathBuf, PathBuf, [String; 4]) {
    let r = Region::init();
    let (a1_pdf, run) = r.issue("business-licence", None, "a1.pdf");
    let a1 = printed(&run, "identifier");
    let mut d = common::sample_data("business-licence");
    d.insert("address".into(), "山东省泰安市泰山区示例路99号测试大厦3层".into());
    let data = r.path("changed.json");
    std::fs::write(&data, serde_json::to_vec(&d).expect("json")).expect("write");
    let a2_pdf = r.path("a2.pdf");
    let run = r.zy(&[
        "licence",
        "change",
        &a1,
        "--home",
        s(&r.home),
        "--data",
        s(&data),
        "--reason",
        "住所变更",
        "-o",
        s(&a2_pdf),
    ]);
    run.assert_code(0);
    let a2 = printed(&run, "new version");
    let (b_pdf, run) = r.issue("business-licence", None, "b.pdf");
    let b = printed(&run, "identifier");
    r.zy(&["licence", "cancel", &b, "--home", s(&r.home), "--reason", "申请人申请注销"]).assert_code(0);
    let (_, run) = r.issue("business-licence", None, "c.pdf");
    let c = printed(&run, "identifier");
    r.zy(&["licence", "revoke", &c, "--home", s(&r.home), "--reason", "以欺骗手段取得许可", "--by", "scjg"])
        .assert_code(0);
    (r, a1_pdf, a2_pdf, b_pdf, [a1, a2, b, c])
}

/// After the lifecycle the page says 已变更 (naming version 002), 有效 for version 002, 已注销 and
/// 已吊销 with their reasons; the old version uploaded is called not current, the new one current.
#[test]
fn page_shows_superseded_cancelled_and_revoked_licences() {
    let (r, a1_pdf, a2_pdf, _, [a1, a2, b, c]) = after_lifecycle();
    let srv = serve(&r.home, &[]);
    let page = |id: &str| text(&get(&format!("{}/verify?id={id}", srv.url)).0);
    let html = page(&a1);
    assert!(html.contains("id=\"status-text\">已变更<") && html.contains("第 002 版"), "{html}");
    assert!(html.contains("住所变更"), "{html}");
    assert!(page(&a2).contains("id=\"status-text\">有效<"));
    let html = page(&b);
    assert!(html.contains("id=\"status-text\">已注销<") && html.contains("申请人申请注销"), "{html}");
    assert!(html.contains("id=\"status-since\""), "{html}");
    let html = page(&c);
    assert!(html.contains("id=\"status-text\">已吊销<") && html.contains("以欺骗手段取得许可"), "{html}");

    let old = upload(&format!("{}/verify?id={a1}", srv.url), "pdf", &std::fs::read(&a1_pdf).expect("pdf"));
    let html = text(&old);
    assert!(html.contains("data-indication=\"TOTAL-PASSED\""), "{html}");
    assert!(html.contains(">不是当前版本：") && !html.contains(">是当前版本："), "{html}");
    let new = upload(&format!("{}/verify?id={a1}", srv.url), "pdf", &std::fs::read(&a2_pdf).expect("pdf"));
    assert!(text(&new).contains(">是当前版本："), "{}", text(&new));
}

/// An upload is judged by the document verdict: the genuine PDF of a cancelled licence (its seals
/// intact, its version the latest) is called 已注销, never 核验通过 or the current valid version;
/// a superseded one 已变更; only the current version of a licence in force passes.
#[test]
fn uploads_of_licences_no_longer_in_force_are_not_called_valid() {
    let (r, a1_pdf, a2_pdf, b_pdf, [a1, _, b, _]) = after_lifecycle();
    let srv = serve(&r.home, &[]);
    let send = |id: &str, pdf: &Path| {
        let resp = upload(&format!("{}/verify?id={id}", srv.url), "pdf", &std::fs::read(pdf).expect("pdf"));
        assert_eq!(resp.status, 200, "{}", text(&resp));
        text(&resp)
    };
    let html = send(&b, &b_pdf);
    assert!(html.contains("data-indication=\"TOTAL-PASSED\""), "{html}");
    assert!(html.contains("id=\"verdict\">证照已注销："), "{html}");
    assert!(html.contains("该证照已注销，不能作为有效证照使用"), "{html}");
    assert!(
        !html.contains("核验通过") && !html.contains(">是当前版本："),
        "a cancelled licence called valid:\n{html}"
    );
    let html = send(&a1, &a1_pdf);
    assert!(html.contains("id=\"verdict\">证照已变更："), "{html}");
    assert!(!html.contains("核验通过"), "a superseded licence called valid:\n{html}");
    let html = send(&a1, &a2_pdf);
    assert!(html.contains("id=\"verdict\">核验通过：") && html.contains(">是当前版本："), "{html}");
}

/// In headless Chromium, the QR codes of a superseded and a cancelled licence open pages that
/// say 已变更 and 已注销; uploading the superseded PDF says it is not the current version.
#[test]
fn superseded_and_cancelled_qr_codes_in_chromium() {
    if !common::browser::ready() {
        return;
    }
    let (r, a1_pdf, _, b_pdf, [a1, _, b, _]) = after_lifecycle();
    let (qa, qb) = (qr_url(&r, &a1_pdf, "qa"), qr_url(&r, &b_pdf, "qb"));
    assert!(qa.ends_with(&a1) && qb.ends_with(&b), "{qa} {qb}");
    let srv = serve(&r.home, &[]);
    let v = common::browser::browse(
        r.dir.path(),
        "verify-page",
        &on_server(&qa, &srv.url),
        "superseded",
        &["--upload", s(&a1_pdf)],
    );
    assert_eq!(v["page"]["status_text"], "已变更", "{v:#}");
    assert_eq!(v["page"]["status_state"], "superseded");
    assert_eq!(v["report"]["indication"], "TOTAL-PASSED", "{v:#}");
    assert!(v["report"]["current_version"].as_str().is_some_and(|t| t.starts_with("不是当前版本")), "{v:#}");
    assert!(v["report"]["verdict"].as_str().is_some_and(|t| t.starts_with("证照已变更")), "{v:#}");
    assert_eq!(v["console"], serde_json::json!([]), "{v:#}");
    let v = common::browser::browse(r.dir.path(), "verify-page", &on_server(&qb, &srv.url), "cancelled", &[]);
    assert_eq!(v["page"]["status_text"], "已注销", "{v:#}");
    assert_eq!(v["page"]["status_state"], "cancelled");
    assert_eq!(v["page"]["phone_overflow"], false);
}
