//! Mutation fuzzing of the file readers, on stable Rust: seeded byte flips, truncations,
//! splices and overwritten integers of real files (the Parquet corpus, IPC files and streams,
//! CSV datasets). A case fails when reading it panics past the scan boundary or ends in an
//! internal error (the readers should reject malformed input themselves), and the whole run
//! fails when a case hangs (a watchdog thread ends the
//! process) or crashes it. Every case is reproducible from the seed and its number.
//! Panics inside parquet's own decoders, which the scan boundary catches and reports as
//! internal errors naming the file, are listed apart (see `CAUGHT`): they are dependency
//! bugs this project cannot fix, only contain.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fusedframe::prelude::*;

/// The words of the internal error the scan boundary makes of a decoder's panic.
pub const CAUGHT: &str = "decoder panicked";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Parquet,
    Ipc,
    Csv,
}

impl Failure {
    pub fn format_ext(&self) -> &'static str {
        self.format.ext()
    }
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Ipc => "arrow",
            Format::Csv => "csv",
        }
    }

    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "parquet" => Some(Format::Parquet),
            "arrow" | "arrows" => Some(Format::Ipc),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// splitmix64: small, seedable, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A seed file: its format, name and bytes.
pub struct Seed {
    pub format: Format,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The seed files: small Parquet files of the corpus, IPC files and streams (arrow-testing's
/// compressed and dictionary cases and the writers' files), CSV datasets.
pub fn seeds(root: &Path) -> Vec<Seed> {
    let mut out = Vec::new();
    let dirs = [
        root.join("tests/corpus/parquet-testing/data"),
        root.join("tests/corpus/arrow-testing/data/arrow-ipc-stream/integration/2.0.0-compression"),
        root.join("tests/corpus/arrow-testing/data/arrow-ipc-stream/integration/4.0.0-shareddict"),
        root.join("tests/corpus/writers"),
        root.join("datasets"),
    ];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let format = match (Format::of(&path), name.as_str()) {
                (Some(f), _) => f,
                (None, n) if n.ends_with(".arrow_file") || n.ends_with(".stream") => Format::Ipc,
                _ => continue,
            };
            // A 2 GiB decompression bomb by design: slow, not hung.
            if name.starts_with("large_string_map") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            // Large seeds make slow cases; the small ones cover the same code.
            if bytes.is_empty() || bytes.len() > 64 * 1024 {
                continue;
            }
            out.push(Seed {
                format,
                name,
                bytes,
            });
        }
    }
    out
}

const INTERESTING: [u32; 8] = [
    0,
    1,
    0x7f,
    0xff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    4096,
];

/// One mutation of `seed` (others of the same format are splice material); what was done is
/// returned for the report.
pub fn mutate(rng: &mut Rng, seed: &[u8], others: &[&[u8]]) -> (Vec<u8>, String) {
    let mut b = seed.to_vec();
    let mut did = Vec::new();
    for _ in 0..1 + rng.below(3) {
        if b.is_empty() {
            break;
        }
        match rng.below(5) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                did.push("flip".to_string());
            }
            1 => {
                let at = rng.below(b.len());
                b.truncate(at);
                did.push(format!("truncate@{at}"));
            }
            2 => {
                let i = rng.below(b.len());
                let v = INTERESTING[rng.below(INTERESTING.len())].to_le_bytes();
                let n = (b.len() - i).min(4);
                b[i..i + n].copy_from_slice(&v[..n]);
                did.push(format!("int@{i}"));
            }
            3 if !others.is_empty() => {
                let o = others[rng.below(others.len())];
                let (s, len) = (rng.below(o.len()), 1 + rng.below(256));
                let piece = &o[s..(s + len).min(o.len())];
                let at = rng.below(b.len());
                b.splice(at..(at + piece.len()).min(b.len()), piece.iter().copied());
                did.push(format!("splice@{at}"));
            }
            _ => {
                // Tail edits hit the footer (Parquet, IPC files), where lengths and offsets live.
                let i = b.len() - 1 - rng.below(b.len().min(64));
                b[i] = rng.next() as u8;
                did.push(format!("tail@{i}"));
            }
        }
    }
    (b, did.join("+"))
}

/// Read `path` as `format` fully, and again projected to its first column and a few rows.
/// `Err` describes a failure: a panic or an internal error.
pub fn exercise(format: Format, path: &Path) -> Result<(), String> {
    let scan = |p: &Path| match format {
        Format::Parquet => scan_parquet(p),
        Format::Ipc => scan_ipc(p),
        Format::Csv => scan_csv(p),
    };
    let check = |r: fusedframe::Result<DataFrame>| match r {
        Err(e) if !e.is_user_error() => Err(e.to_string()),
        _ => Ok(()),
    };
    let full = catch_unwind(AssertUnwindSafe(|| check(scan(path).collect())));
    let first = catch_unwind(AssertUnwindSafe(|| {
        let Ok(schema) = scan(path).schema() else {
            return Ok(());
        };
        let Some(f) = schema.fields().first() else {
            return Ok(());
        };
        check(scan(path).select([col(f.name())]).head(5).collect())
    }));
    for r in [full, first] {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("panicked".into()),
        }
    }
    Ok(())
}

/// A failing case, reproducible from the seed and its number.
pub struct Failure {
    pub case: u64,
    pub seed_file: String,
    pub mutation: String,
    pub error: String,
    pub input: Vec<u8>,
    pub format: Format,
}

/// Run cases `seed`, `seed+1`, ... until `budget` is spent or `max_cases` are run; a case
/// that takes longer than `hang` ends the process (a hang is a failure CI must see).
pub fn run(
    root: &Path,
    dir: &Path,
    seed: u64,
    budget: Duration,
    max_cases: u64,
    hang: Duration,
) -> (u64, Vec<Failure>) {
    let seeds = seeds(root);
    assert!(seeds.len() > 20, "too few seed files: {}", seeds.len());
    let started = Instant::now();
    let case_started = Arc::new(AtomicU64::new(u64::MAX));
    let current = Arc::new(std::sync::Mutex::new(String::new()));
    {
        let (case_started, current) = (case_started.clone(), current.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let t = case_started.load(Ordering::Relaxed);
            if t != u64::MAX && started.elapsed().as_millis() as u64 - t > hang.as_millis() as u64 {
                eprintln!(
                    "fuzz: HANG (over {hang:?}) on {}",
                    current.lock().map(|c| c.clone()).unwrap_or_default()
                );
                let _ = std::io::stderr().flush();
                std::process::exit(3);
            }
        });
    }
    let mut failures = Vec::new();
    let mut n = 0;
    while n < max_cases && started.elapsed() < budget {
        let case = seed.wrapping_add(n);
        let mut rng = Rng::new(case);
        let s = &seeds[rng.below(seeds.len())];
        let others: Vec<&[u8]> = seeds
            .iter()
            .filter(|o| o.format == s.format)
            .map(|o| o.bytes.as_slice())
            .collect();
        let (input, mutation) = mutate(&mut rng, &s.bytes, &others);
        let path = dir.join(format!("case.{}", s.format.ext()));
        std::fs::write(&path, &input).expect("write case");
        if let Ok(mut c) = current.lock() {
            *c = format!(
                "case {case} ({} {mutation}), input at {}",
                s.name,
                path.display()
            );
        }
        case_started.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if let Err(error) = exercise(s.format, &path) {
            failures.push(Failure {
                case,
                seed_file: s.name.clone(),
                mutation,
                error,
                input,
                format: s.format,
            });
        }
        case_started.store(u64::MAX, Ordering::Relaxed);
        n += 1;
    }
    (n, failures)
}
