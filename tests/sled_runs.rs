//! The vendored sled applies a transaction's (and a batch's) writes leaf by leaf: the keys that
//! fall into one leaf go into one copy of it, logged as one page (vendor/sled/ZHENGYIN-PATCH.md,
//! `Tree::insert_sorted`). These tests hold it to what one insert after another gives: the same
//! keys and values after every commit, after splits, deletes, no-op writes and overwrites, after
//! reopening the store, and with a subscriber watching.

mod common;
use common::open_sled as db;

/// A repeatable pseudo-random stream (splitmix64), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
}

/// One write of a round: keys in order (log nodes), at random (hashes), some deleted, some
/// written again with the value they hold, values small (inline) and large (on the heap).
fn round(
    rng: &mut Rng,
    seq: &mut u64,
    model: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut writes = std::collections::BTreeMap::new();
    for _ in 0..(rng.next() % 400) {
        let key = match rng.next() % 4 {
            0 | 1 => {
                *seq += 1;
                format!("n{:012}", *seq).into_bytes()
            }
            2 => format!("h{:016x}{:048x}", rng.next(), rng.next()).into_bytes(),
            _ => match model.keys().nth((rng.next() as usize) % model.len().max(1)) {
                Some(k) => k.clone(),
                None => continue,
            },
        };
        let value = match rng.next() % 6 {
            0 => None,
            1 => model.get(&key).cloned(),
            2 => Some(vec![b'v'; 600 + (rng.next() % 400) as usize]),
            _ => Some(rng.next().to_be_bytes().to_vec()),
        };
        writes.insert(key, value);
    }
    writes.into_iter().collect()
}

fn apply(model: &mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
    for (k, v) in writes {
        match v {
            Some(v) => model.insert(k.clone(), v.clone()),
            None => model.remove(k),
        };
    }
}

fn same(tree: &sled::Tree, model: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>, when: &str) {
    let got: Vec<(Vec<u8>, Vec<u8>)> =
        tree.iter().map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap()).collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(got.len(), want.len(), "{when}: key count");
    assert!(got == want, "{when}: contents differ from one insert after another");
    for (k, v) in model.iter().step_by(7) {
        assert_eq!(tree.get(k).unwrap().as_deref(), Some(v.as_slice()), "{when}: get");
    }
}

/// Two trees written in transactions (one with `insert`, one with the blind `set`) and a third by
/// `apply_batch`, 120 rounds of up to 400 keys,
/// compared with a model after every round and after reopening.
#[test]
fn runs_of_writes_give_what_single_inserts_give() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, mut c) = Default::default();
    let (mut rng, mut seq) = (Rng(16), 0u64);
    {
        let db = db(dir.path());
        let (ta, tb, tc) =
            (db.open_tree("a").unwrap(), db.open_tree("b").unwrap(), db.open_tree("c").unwrap());
        for r in 0..120 {
            let (wa, wb, wc) =
                (round(&mut rng, &mut seq, &a), round(&mut rng, &mut seq, &b), round(&mut rng, &mut seq, &c));
            use sled::Transactional;
            (&ta, &tb)
                .transaction(|(x, y)| {
                    for (k, v) in &wa {
                        match v {
                            Some(v) => x.insert(k.as_slice(), v.as_slice()).map(drop)?,
                            None => x.remove(k.as_slice()).map(drop)?,
                        }
                    }
                    for (k, v) in &wb {
                        match v {
                            // The blind write (`set`, no read of the value replaced).
                            Some(v) => y.set(k.as_slice(), v.as_slice()),
                            None => y.remove(k.as_slice()).map(drop)?,
                        }
                    }
                    Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
                })
                .unwrap();
            let mut batch = sled::Batch::default();
            for (k, v) in &wc {
                match v {
                    Some(v) => batch.insert(k.as_slice(), v.as_slice()),
                    None => batch.remove(k.as_slice()),
                }
            }
            tc.apply_batch(batch).unwrap();
            apply(&mut a, &wa);
            apply(&mut b, &wb);
            apply(&mut c, &wc);
            same(&ta, &a, &format!("round {r}, tree a"));
            same(&tb, &b, &format!("round {r}, tree b"));
            same(&tc, &c, &format!("round {r}, tree c"));
        }
        assert!(a.len() > 5_000, "the rounds split leaves many times ({} keys)", a.len());
        db.flush().unwrap();
    }
    let db = db(dir.path());
    same(&db.open_tree("a").unwrap(), &a, "tree a reopened");
    same(&db.open_tree("b").unwrap(), &b, "tree b reopened");
    same(&db.open_tree("c").unwrap(), &c, "tree c reopened");
}

/// A subscriber still hears every key of a batch (such trees take the one-by-one path).
#[test]
fn a_subscriber_hears_every_key_of_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let tree = db.open_tree("watched").unwrap();
    let mut events = tree.watch_prefix(b"k");
    let mut batch = sled::Batch::default();
    for i in 0..50u32 {
        batch.insert(format!("k{i:03}").as_bytes(), &i.to_be_bytes());
    }
    tree.apply_batch(batch).unwrap();
    let mut heard = std::collections::BTreeSet::new();
    for _ in 0..50 {
        match events.next_timeout(std::time::Duration::from_secs(5)).expect("an event per key") {
            sled::Event::Insert { key, .. } => heard.insert(key.to_vec()),
            other => panic!("unexpected {other:?}"),
        };
    }
    assert_eq!(heard.len(), 50);
    assert_eq!(tree.len(), 50);
}
