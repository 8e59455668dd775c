//! The signature widget's appearance: a form XObject drawing the signer's round red seal (or an
//! annotated copy's watermark) with its own font subset. A department's seal depends only on its
//! name, seal text and size, so the finished objects (font subset, compressed streams) are built
//! once per process and reused; watermarks carry per-copy text and are built every time.
//!
//! Nothing here depends on the PDF being sealed: the objects only reference each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use lopdf::{dictionary, Object, ObjectId, Stream};

use super::sign::{Appearance, SealRequest};
use crate::document::font::TextEncoder;
use crate::document::{seal, watermark};
use crate::error::Result;

/// Most cached seal appearances (a region has a few dozen departments); cleared when full.
const MAX_CACHED: usize = 256;

/// Department name, seal text, width and height (as bits): everything a seal's drawing uses.
type Key = (String, String, u32, u32);

/// The appearance's objects in allocation order, the form XObject last. References between
/// them are placeholders: object `i` of the list is `(i + 1, 0)`.
type Objects = Arc<Vec<Object>>;

fn cache() -> &'static Mutex<HashMap<Key, Objects>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Objects>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Add the appearance objects of `req` through `add` (ids counting up from `next`, which must be
/// the id `add` gives first); returns the form XObject's id.
pub fn add(req: &SealRequest<'_>, next: u32, add: &mut dyn FnMut(Object) -> ObjectId) -> Result<ObjectId> {
    let objects = match req.appearance {
        Appearance::Seal => {
            let dept = &req.signer.department;
            let key = (
                dept.name.clone(),
                dept.seal_text.clone(),
                (req.rect.x2 - req.rect.x1).to_bits(),
                (req.rect.y2 - req.rect.y1).to_bits(),
            );
            let cached = cache().lock().ok().and_then(|c| c.get(&key).cloned());
            match cached {
                Some(o) => o,
                None => {
                    let built = Arc::new(build(req)?);
                    if let Ok(mut c) = cache().lock() {
                        if c.len() >= MAX_CACHED {
                            c.clear();
                        }
                        c.insert(key, built.clone());
                    }
                    built
                }
            }
        }
        Appearance::Watermark { .. } => Arc::new(build(req)?),
    };
    let mut last = (next, 0);
    for o in objects.iter() {
        let mut o = o.clone();
        relocate(&mut o, next);
        last = add(o);
    }
    Ok(last)
}

/// Draw the appearance and emit its objects with placeholder ids.
fn build(req: &SealRequest<'_>) -> Result<Vec<Object>> {
    let w = req.rect.x2 - req.rect.x1;
    let h = req.rect.y2 - req.rect.y1;
    let dept = &req.signer.department;
    let mut enc = TextEncoder::new()?;
    let content = match &req.appearance {
        Appearance::Seal => seal::appearance(&mut enc, &dept.name, &dept.seal_text, w)?,
        Appearance::Watermark { headline, detail } => {
            let m =
                watermark::Watermark { headline, detail, seal_name: &dept.name, seal_text: &dept.seal_text };
            watermark::appearance(&mut enc, &m, w, h)?
        }
    };
    let mut objects = Vec::new();
    let font = enc.finish(&mut |o| {
        objects.push(o);
        (u32::try_from(objects.len()).unwrap_or(u32::MAX), 0)
    })?;
    // The seal is ink (blend mode Multiply); the watermark's text is translucent too.
    let mut states = lopdf::Dictionary::new();
    states.set(seal::INK, seal::ink_state());
    if matches!(req.appearance, Appearance::Watermark { .. }) {
        states.set("GS1", dictionary! { "Type" => "ExtGState", "ca" => Object::Real(watermark::OPACITY) });
    }
    let resources = dictionary! { "Font" => dictionary! { "F1" => font }, "ExtGState" => states };
    let mut ap = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)],
            "Resources" => resources,
        },
        content.into_bytes(),
    );
    crate::document::compress(&mut ap)?;
    objects.push(Object::Stream(ap));
    Ok(objects)
}

/// Turn placeholder references `(i + 1, g)` into `(next + i, g)`.
fn relocate(o: &mut Object, next: u32) {
    match o {
        Object::Reference((n, _)) => *n = n.saturating_add(next).saturating_sub(1),
        Object::Array(a) => a.iter_mut().for_each(|x| relocate(x, next)),
        Object::Dictionary(d) => d.iter_mut().for_each(|(_, x)| relocate(x, next)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, x)| relocate(x, next)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Placeholder references move to the ids the sealed file gives the objects.
    #[test]
    fn relocates_placeholders() {
        let mut o = Object::Dictionary(
            dictionary! { "F1" => (3, 0), "A" => vec![Object::Reference((1, 0)), 7.into()] },
        );
        relocate(&mut o, 20);
        assert_eq!(
            o,
            Object::Dictionary(
                dictionary! { "F1" => (22, 0), "A" => vec![Object::Reference((20, 0)), 7.into()] }
            )
        );
    }
}
