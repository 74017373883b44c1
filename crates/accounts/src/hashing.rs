//! Argon2id on a bounded pool of dedicated threads.
//!
//! A hash at OWASP parameters takes tens of milliseconds of CPU and 19 MiB; doing it on an
//! async worker would stall every other request on that worker, and an unbounded queue would
//! let a flood exhaust memory. So: `threads` std threads fed by a bounded `sync_channel`; at
//! most `threads + queue` jobs are admitted (running or waiting), the next is [`Error::Busy`]
//! at once, and replies come back on a `tokio::sync::oneshot`, which works from any runtime
//! (the server runs several current-thread ones).
//!
//! Admission is counted rather than left to the channel alone: with a zero-capacity channel,
//! `try_send` fails whenever a thread has finished a job but not yet come back to `recv`, so
//! even one caller at a time would now and then be refused.
//!
//! # Password checks take one time, whoever is asked for
//!
//! An unknown user must take the time of a known one with a wrong password, whatever the
//! Argon2 parameters of the stored hashes (SPEC §5): verifying the unknown against a dummy
//! hash of the configured cost is not enough once stored hashes carry other costs (a server
//! started with cheaper parameters than its users' hashes answered an unknown user in 2.7 ms
//! and a known one in 24.3 ms, issue 21). So an unknown user is checked against a dummy hash
//! of the dearest kind of hash in use, and a check of a cheaper kind is padded, on its
//! hashing thread, to the time of a check of the dearest kind: one of that kind's recent
//! verification times, drawn at random, so padded checks take the times that unpadded ones
//! take under the same load, not one fixed time that would tell them apart.
//!
//! A check of the dearest kind itself is not padded: an unknown user's check against the
//! dummy of that kind is the same work on the same threads, so its own time is already the
//! time to match. That is every check once the users are at one cost, so a hashing thread
//! never idles then (padding every check to the longest recent time, as before, took changes
//! from 0.73 to 0.63 of the engine's ceiling under load, issue 17).
//!
//! The kinds in use (each stored PHC string up to its salt) are read from the store at start
//! and every `hash_kinds_refresh`, and learnt from every hash a check meets; each kind is
//! calibrated by a few verifications when it is first seen, and every real verification adds
//! its time, so the times drawn follow the machine's load. Padding on the hashing thread, not
//! after it, keeps the pool's occupancy alike too: a flood of unknown names fills the queue
//! as fast as one of known names. What this costs: while users have hashes of a dearer kind
//! than the configured one, every check takes the time of that dearer kind, until successful
//! checks have re-hashed them at the configured cost and the refresh no longer finds it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2_rust::params::Memory;
use argon2_rust::{Algorithm, Argon2, Error as EngineError, Hasher, Params, Version};
use rand::RngCore;
use tokio::sync::oneshot;

use crate::{Error, HashParams};

/// What `Busy` tells the caller to wait.
const RETRY_AFTER: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. Cloning shares them; they end when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct HashPool {
    sender: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    capacity: usize,
    params: Params,
    jobs: Arc<AtomicUsize>,
    /// Microseconds jobs spent queued before a thread took them, summed.
    waited_micros: Arc<AtomicU64>,
    /// What password checks are padded to.
    costs: Arc<Costs>,
    /// The kind of every new hash: `$argon2id$v=19$m=..,t=..,p=..`.
    configured_kind: String,
}

impl HashPool {
    pub(crate) fn new(params: HashParams, threads: usize, queue: usize) -> Result<HashPool, Error> {
        let params = argon2_params(params)?;
        let threads = threads.max(1);
        let capacity = threads.saturating_add(queue);
        let (sender, receiver) = mpsc::sync_channel::<Job>(capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("agentgate-argon2-{n}"))
                .spawn(move || {
                    // The memory this thread keeps is sized by the configured cost.
                    with_hasher(
                        Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
                        |_| (),
                    );
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| Error::Hash(format!("cannot start hashing thread: {e}")))?;
        }
        let configured_kind = kind_of(&hash_once(&params, "kind")?).to_owned();
        let costs = Arc::new(Costs::default());
        costs.add_in_use(&configured_kind);
        Ok(HashPool {
            sender,
            depth: Arc::new(AtomicUsize::new(0)),
            capacity,
            params,
            jobs: Arc::new(AtomicUsize::new(0)),
            waited_micros: Arc::new(AtomicU64::new(0)),
            costs,
            configured_kind,
        })
    }

    /// Whether a stored hash is of another kind than new hashes are: then a successful check
    /// re-hashes the password.
    pub(crate) fn needs_rehash(&self, phc: &str) -> bool {
        kind_of(phc) != self.configured_kind
    }

    /// The longest recent verification time of the dearest kind in use.
    pub(crate) fn padding_target(&self) -> Duration {
        self.costs.target()
    }

    /// Makes `kinds` (with the configured one) the kinds in use, and calibrates each not
    /// measured yet with a few verifications. Kinds that cannot be parsed are left out.
    pub(crate) async fn use_kinds(&self, kinds: Vec<String>) -> Result<(), Error> {
        let mut in_use: Vec<String> = kinds
            .into_iter()
            .filter(|kind| params_of(kind).is_some())
            .collect();
        in_use.push(self.configured_kind.clone());
        self.costs.set_in_use(&in_use);
        for kind in self.costs.uncalibrated() {
            let Some(params) = params_of(&kind) else {
                continue;
            };
            let costs = Arc::clone(&self.costs);
            self.run_uncounted(move || {
                let phc = hash_once(&params, &random_password())?;
                for _ in 0..CALIBRATION_ROUNDS {
                    let started = std::time::Instant::now();
                    verify_with("calibration", &phc)?;
                    costs.record(&kind, started.elapsed());
                }
                costs.lock().dummies.insert(kind, phc);
                Ok::<_, Error>(())
            })
            .await??;
        }
        Ok(())
    }

    /// Jobs waiting plus running.
    pub(crate) fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Jobs accepted since the pool started.
    pub(crate) fn jobs(&self) -> usize {
        self.jobs.load(Ordering::Relaxed)
    }

    /// Time jobs spent waiting for a thread, summed over all jobs since the pool started.
    pub(crate) fn waited(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.waited_micros.load(Ordering::Relaxed))
    }

    /// Hashes an (already normalised) password with the configured parameters.
    pub(crate) async fn hash(&self, password: String) -> Result<String, Error> {
        let params = self.params;
        self.run(move || hash_with(&params, &password)).await?
    }

    /// Hashes an (already normalised) new password as [`hash`](HashPool::hash) does, if
    /// `admit` lets it, on the same hashing thread: the password policy's strength check
    /// takes up to tens of milliseconds (see [`Policy::check`](crate::Policy::check)), too
    /// long for an async worker, whose other requests would wait for it.
    pub(crate) async fn hash_if<E: Send + 'static>(
        &self,
        password: String,
        admit: impl FnOnce(&str) -> Result<(), E> + Send + 'static,
    ) -> Result<Result<String, E>, Error> {
        let params = self.params;
        self.run(move || match admit(&password) {
            Ok(()) => hash_with(&params, &password).map(Ok),
            Err(refused) => Ok(Err(refused)),
        })
        .await?
    }

    /// Checks an (already normalised) password against a PHC string, in constant time.
    pub(crate) async fn verify(&self, password: String, phc: String) -> Result<bool, Error> {
        self.run(move || verify_with(&password, &phc)).await?
    }

    /// A password check: [`verify`](HashPool::verify), then, on the same thread and for a
    /// hash cheaper than the dearest kind in use, a wait until the check has taken a recent
    /// time of that dearest kind (see the module's docs). Its own time is added to its kind's
    /// measurements.
    pub(crate) async fn check(&self, password: String, phc: String) -> Result<bool, Error> {
        let costs = Arc::clone(&self.costs);
        self.run(move || {
            let started = std::time::Instant::now();
            let matched = verify_with(&password, &phc);
            let spent = started.elapsed();
            let kind = kind_of(&phc);
            costs.add_in_use(kind);
            costs.record(kind, spent);
            if let Some(rest) = costs.pad_to(kind).and_then(|time| time.checked_sub(spent)) {
                std::thread::sleep(rest);
            }
            matched
        })
        .await?
    }

    /// A password check for a user who does not exist: [`check`](HashPool::check) against
    /// a dummy hash of the dearest kind in use, so it costs, and varies with the load, as a
    /// known user's check of that kind does. Never matches.
    pub(crate) async fn check_unknown(
        &self,
        password: String,
        fallback: &str,
    ) -> Result<bool, Error> {
        let dummy = self
            .costs
            .dearest_dummy()
            .unwrap_or_else(|| fallback.to_owned());
        self.check(password, dummy).await.map(|_| false)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let answer = self.run_uncounted(work).await;
        if answer.is_ok() {
            self.jobs.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// [`run`](HashPool::run) without counting the job in [`jobs`](HashPool::jobs): for the
    /// calibration, which is not a caller's work.
    async fn run_uncounted<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        let depth = Arc::clone(&self.depth);
        let waited = Arc::clone(&self.waited_micros);
        let queued = std::time::Instant::now();
        let job: Job = Box::new(move || {
            let micros = u64::try_from(queued.elapsed().as_micros()).unwrap_or(u64::MAX);
            waited.fetch_add(micros, Ordering::Relaxed);
            let result = work();
            // Before the reply, so a caller that got its answer sees the job gone.
            depth.fetch_sub(1, Ordering::AcqRel);
            let _ = reply.send(result);
        });
        let admitted = self
            .depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |depth| {
                (depth < self.capacity).then_some(depth + 1)
            });
        if admitted.is_err() {
            return Err(Error::Busy {
                retry_after: RETRY_AFTER,
            });
        }
        if let Err(e) = self.sender.try_send(job) {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            return Err(match e {
                TrySendError::Full(_) => Error::Busy {
                    retry_after: RETRY_AFTER,
                },
                TrySendError::Disconnected(_) => Error::Hash("hashing threads stopped".into()),
            });
        }
        answer
            .await
            .map_err(|_| Error::Hash("hashing thread failed".into()))
    }
}

/// Verifications a kind of hash is measured with when first seen.
const CALIBRATION_ROUNDS: usize = 3;

/// Measurements kept per kind.
const SAMPLES: usize = 16;

/// The verification times of each kind of hash, and which kinds are in use.
#[derive(Default)]
struct Costs {
    inner: Mutex<CostsInner>,
}

#[derive(Default)]
struct CostsInner {
    in_use: HashSet<String>,
    samples: HashMap<String, VecDeque<Duration>>,
    /// A hash of a random password, per kind, for users who do not exist.
    dummies: HashMap<String, String>,
}

impl Costs {
    fn lock(&self) -> std::sync::MutexGuard<'_, CostsInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_in_use(&self, kinds: &[String]) {
        let mut inner = self.lock();
        inner.in_use = kinds.iter().cloned().collect();
        let CostsInner {
            in_use,
            samples,
            dummies,
        } = &mut *inner;
        samples.retain(|kind, _| in_use.contains(kind));
        dummies.retain(|kind, _| in_use.contains(kind));
    }

    fn add_in_use(&self, kind: &str) {
        let mut inner = self.lock();
        if !inner.in_use.contains(kind) {
            inner.in_use.insert(kind.to_owned());
        }
    }

    /// The kinds in use without a dummy hash or with too few measurements: a kind first met
    /// in a check has measurements but no dummy until the next refresh calibrates it.
    fn uncalibrated(&self) -> Vec<String> {
        let inner = self.lock();
        inner
            .in_use
            .iter()
            .filter(|kind| {
                !inner.dummies.contains_key(*kind)
                    || inner
                        .samples
                        .get(*kind)
                        .is_none_or(|s| s.len() < CALIBRATION_ROUNDS)
            })
            .cloned()
            .collect()
    }

    fn record(&self, kind: &str, spent: Duration) {
        let mut inner = self.lock();
        if !inner.in_use.contains(kind) {
            return;
        }
        let samples = inner.samples.entry(kind.to_owned()).or_default();
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back(spent);
    }

    /// The longest of the recent times of the dearest kind in use: about the longest a
    /// password check takes now.
    fn target(&self) -> Duration {
        let inner = self.lock();
        inner
            .dearest()
            .and_then(|kind| inner.estimate(kind))
            .unwrap_or_default()
    }

    /// What a check of `kind` is padded to: nothing when it is the dearest kind in use (or
    /// none is measured yet), else one of the dearest kind's recent times, drawn at random.
    fn pad_to(&self, kind: &str) -> Option<Duration> {
        let inner = self.lock();
        let dearest = inner.dearest()?;
        if dearest == kind {
            return None;
        }
        let samples = inner.samples.get(dearest)?;
        let drawn = rand::Rng::gen_range(&mut rand::thread_rng(), 0..samples.len());
        samples.get(drawn).copied()
    }

    /// The dummy hash of the dearest kind in use, or, while that kind has none yet (it was
    /// first met in a check, and the next refresh makes one), of the dearest that has one:
    /// a check against it is then padded to the dearest kind's time like any cheaper one.
    fn dearest_dummy(&self) -> Option<String> {
        let inner = self.lock();
        let dearest = inner.dearest_of(|kind| inner.dummies.contains_key(kind))?;
        inner.dummies.get(dearest).cloned()
    }
}

impl CostsInner {
    fn estimate(&self, kind: &str) -> Option<Duration> {
        self.samples.get(kind)?.iter().copied().max()
    }

    /// The dearest of the kinds in use that are measured: by the work its parameters name
    /// (memory times passes), then by its measured time. Not by the measured time alone: one
    /// outlier of a cheap kind would make it the dearest, and its checks would go unpadded.
    fn dearest(&self) -> Option<&String> {
        self.dearest_of(|_| true)
    }

    /// [`dearest`](CostsInner::dearest) among the kinds `which` picks.
    fn dearest_of(&self, which: impl Fn(&str) -> bool) -> Option<&String> {
        self.in_use
            .iter()
            .filter(|kind| which(kind))
            .filter_map(|kind| Some((kind, declared_work(kind), self.estimate(kind)?)))
            .max_by_key(|(_, work, estimate)| (*work, *estimate))
            .map(|(kind, _, _)| kind)
    }
}

/// The work a kind's parameters name: memory (KiB) times passes, 0 when it names them not.
fn declared_work(kind: &str) -> u64 {
    cost_fields(kind).map_or(0, |(m, t, _)| u64::from(m) * u64::from(t))
}

fn random_password() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PHC string up to its salt: `$argon2id$v=19$m=19456,t=2,p=1`, what tells the cost.
fn kind_of(phc: &str) -> &str {
    // `$alg[$v=..]$params$salt$hash`: cut the last two fields.
    let mut end = phc.len();
    for _ in 0..2 {
        end = phc[..end].rfind('$').unwrap_or(0);
    }
    &phc[..end]
}

/// The Argon2 parameters a kind names, when it names them all.
fn params_of(kind: &str) -> Option<Params> {
    let (m, t, p) = cost_fields(kind)?;
    argon2_params(HashParams {
        memory_kib: m,
        iterations: t,
        parallelism: p,
    })
    .ok()
}

/// The `m`, `t` and `p` a kind names, when it names them all.
fn cost_fields(kind: &str) -> Option<(u32, u32, u32)> {
    let fields = kind.split('$').find(|field| field.starts_with("m="))?;
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for pair in fields.split(',') {
        let (name, value) = pair.split_once('=')?;
        let value: u32 = value.parse().ok()?;
        match name {
            "m" => m = Some(value),
            "t" => t = Some(value),
            "p" => p = Some(value),
            _ => {}
        }
    }
    Some((m?, t?, p?))
}

pub(crate) fn argon2_params(params: HashParams) -> Result<Params, Error> {
    Params::builder()
        .memory(Memory::kib(u64::from(params.memory_kib)))
        .passes(params.iterations)
        .lanes(params.parallelism)
        .build()
        .map_err(|e| Error::Hash(format!("invalid Argon2 parameters: {e}")))
}

thread_local! {
    /// Argon2's working memory, kept by each thread that hashes, sized by the costs this
    /// thread has hashed new passwords at. Allocating 19 MiB per hash and giving it back
    /// costs page faults and clearing (about 15% of the hashing threads' time under a change
    /// load, by `perf`). The engine wipes it when each hash returns. A stored hash of a
    /// higher cost than what is kept verifies on memory of its own, freed after it, so a
    /// stored string cannot make a thread keep more.
    static HASHER: RefCell<Option<Hasher>> = const { RefCell::new(None) };
}

/// A hash like [`hash_with`]'s on memory of its own, freed after it: for hashes off the
/// hashing threads or of another cost than new passwords get, which must not make a thread
/// keep memory.
fn hash_once(params: &Params, password: &str) -> Result<String, Error> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, *params)
        .hash_password_with_random_salt(password.as_bytes())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// `work` with this thread's [`Hasher`], set to `argon2`.
fn with_hasher<T>(argon2: Argon2, work: impl FnOnce(&mut Hasher) -> T) -> T {
    HASHER.with_borrow_mut(|kept| {
        let hasher = kept.get_or_insert_with(|| argon2.hasher());
        if *hasher.argon2() != argon2 {
            hasher.set_argon2(argon2);
        }
        work(hasher)
    })
}

/// A PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash` with a fresh 128-bit salt from the
/// operating system, on this thread's kept memory, which grows to `params` if it is smaller.
pub(crate) fn hash_with(params: &Params, password: &str) -> Result<String, Error> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, *params);
    with_hasher(argon2, |hasher| {
        hasher.hash_password_with_random_salt(password.as_bytes())
    })
    .map_err(|e| Error::Hash(e.to_string()))
}

/// Verification takes algorithm, version and parameters from the PHC string itself, so older
/// and weaker hashes keep verifying until the next change replaces them. The engine compares
/// the outputs in constant time.
pub(crate) fn verify_with(password: &str, phc: &str) -> Result<bool, Error> {
    let algorithm = [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d]
        .into_iter()
        .find(|algorithm| {
            phc.strip_prefix('$')
                .and_then(|rest| rest.strip_prefix(algorithm.as_str()))
                .is_some_and(|rest| rest.starts_with('$'))
        })
        .ok_or_else(|| Error::Hash("stored hash: not an Argon2 PHC string".into()))?;
    // The memory this thread keeps serves every stored hash that fits in it.
    let verified = HASHER.with_borrow_mut(|kept| match kept {
        Some(hasher) => hasher.verify_encoded(phc, password.as_bytes(), algorithm),
        None => Argon2::verify_encoded(phc, password.as_bytes(), algorithm),
    });
    match verified {
        Ok(()) => Ok(true),
        Err(EngineError::VerifyMismatch) => Ok(false),
        Err(e) => Err(Error::Hash(format!("stored hash: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_are_argon2id_phc_strings_with_the_configured_cost() {
        let phc = hash_with(&argon2_params(CHEAP).unwrap(), "pässword").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{phc}");
        assert!(verify_with("pässword", &phc).unwrap());
        assert!(!verify_with("password", &phc).unwrap());
    }

    /// RustCrypto's `argon2`, the engine before this one (issue 17): what its verifier says.
    fn rustcrypto_verifies(password: &str, phc: &str) -> bool {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &PasswordHash::new(phc).unwrap())
            .is_ok()
    }

    /// The kept memory grows for a costlier new hash and is reused, at the right size, for a
    /// cheaper one after it; every hash verifies here and with RustCrypto's own verifier.
    #[test]
    fn hashes_of_every_cost_verify_on_one_thread() {
        let costs = [
            CHEAP,
            HashParams {
                memory_kib: 4096,
                iterations: 1,
                parallelism: 1,
            },
            HashParams {
                memory_kib: 2048,
                iterations: 2,
                parallelism: 2,
            },
            HashParams {
                memory_kib: 8192,
                iterations: 1,
                parallelism: 4,
            },
            CHEAP,
        ];
        for cost in costs {
            let params = argon2_params(cost).unwrap();
            let phc = hash_with(&params, "pässword").unwrap();
            assert!(rustcrypto_verifies("pässword", &phc), "{phc}");
            assert!(!rustcrypto_verifies("password", &phc), "{phc}");
            assert!(verify_with("pässword", &phc).unwrap(), "{phc}");
            assert!(!verify_with("password", &phc).unwrap(), "{phc}");
        }
        let kept = HASHER.with_borrow(|kept| kept.as_ref().unwrap().reserved_blocks());
        assert_eq!(kept, 8192, "the largest new hash's memory is kept");
    }

    /// A stored hash dearer than what a thread keeps verifies on memory of its own: a stored
    /// string cannot make a hashing thread keep more.
    #[test]
    fn a_dear_stored_hash_does_not_grow_the_kept_memory() {
        let dear = hash_once(
            &argon2_params(HashParams {
                memory_kib: 16384,
                iterations: 1,
                parallelism: 1,
            })
            .unwrap(),
            "secret",
        )
        .unwrap();
        hash_with(&argon2_params(CHEAP).unwrap(), "x").unwrap();
        assert!(verify_with("secret", &dear).unwrap());
        assert!(!verify_with("Secret", &dear).unwrap());
        let kept = HASHER.with_borrow(|kept| kept.as_ref().unwrap().reserved_blocks());
        assert_eq!(kept, 1024);
    }

    /// Hashes made by RustCrypto's `PasswordHasher` (the engine before, so every database
    /// written until issue 17) verify here, of every Argon2 variant and version; one made here
    /// has the same output as RustCrypto's for the same password and salt.
    #[test]
    fn the_phc_strings_match_rustcryptos_own() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap();
        for algorithm in [
            argon2::Algorithm::Argon2id,
            argon2::Algorithm::Argon2i,
            argon2::Algorithm::Argon2d,
        ] {
            for version in [argon2::Version::V0x13, argon2::Version::V0x10] {
                let params = argon2::Params::new(1024, 2, 2, None).unwrap();
                let theirs = argon2::Argon2::new(algorithm, version, params)
                    .hash_password(b"secret", &salt)
                    .unwrap()
                    .to_string();
                assert!(verify_with("secret", &theirs).unwrap(), "{theirs}");
                assert!(!verify_with("Secret", &theirs).unwrap(), "{theirs}");
            }
        }
        let theirs = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"secret", &salt)
        .unwrap()
        .to_string();
        let ours = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            argon2_params(CHEAP).unwrap(),
        )
        .hash_password(b"secret", b"sixteen byte sal")
        .unwrap();
        assert_eq!(ours, theirs);
    }

    /// RFC 9106 §5.3, the Argon2id test vector (secret and associated data, which agentgate
    /// does not use, so through the engine directly): the engine picks its SIMD path at run
    /// time, and `scripts/test` runs this test again on emulated CPUs without AVX-512 and
    /// without AVX2, checking that the engine took the path each one allows.
    #[test]
    fn the_engine_computes_the_rfc_9106_argon2id_vector() {
        let params = Params::builder()
            .memory(Memory::kib(32))
            .passes(3)
            .lanes(4)
            .build()
            .unwrap();
        let mut tag = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_into_with_ad(&[1; 32], &[2; 16], &[3; 8], &[4; 12], &mut tag)
            .unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
        );
        let backend = argon2_rust::detected_backend().name();
        eprintln!("argon2-rust backend: {backend}");
        // scripts/test names the path an emulated CPU must take.
        if let Ok(expected) = std::env::var("AGENTGATE_EXPECT_ARGON2_BACKEND") {
            assert_eq!(backend, expected);
        }
    }

    #[test]
    fn kinds_are_phc_strings_up_to_the_salt() {
        let phc = hash_with(&argon2_params(CHEAP).unwrap(), "x").unwrap();
        assert_eq!(kind_of(&phc), "$argon2id$v=19$m=1024,t=1,p=1");
        assert_eq!(
            kind_of("$argon2id$m=64,t=1,p=1$c2FsdA$aGFzaA"),
            "$argon2id$m=64,t=1,p=1"
        );
        let params = params_of("$argon2id$v=19$m=1024,t=1,p=1").unwrap();
        assert_eq!(
            (params.memory_kib(), params.passes(), params.lanes()),
            (1024, 1, 1)
        );
        assert!(params_of("$argon2id$v=19").is_none());
        assert!(params_of("garbage").is_none());
    }

    #[test]
    fn the_target_is_the_dearest_kind_in_use() {
        let costs = Costs::default();
        costs.set_in_use(&["cheap".into(), "dear".into()]);
        for ms in 1..=10 {
            costs.record("cheap", Duration::from_millis(ms));
            costs.record("dear", Duration::from_millis(10 * ms));
        }
        assert_eq!(costs.target(), Duration::from_millis(100));
        costs.record("gone", Duration::from_secs(9));
        assert_eq!(costs.target(), Duration::from_millis(100), "not in use");
        costs
            .lock()
            .dummies
            .insert("dear".into(), "dear-phc".into());
        costs
            .lock()
            .dummies
            .insert("cheap".into(), "cheap-phc".into());
        assert_eq!(costs.dearest_dummy().as_deref(), Some("dear-phc"));
        costs.set_in_use(&["cheap".into()]);
        assert_eq!(costs.target(), Duration::from_millis(10));
        assert_eq!(costs.uncalibrated(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn checks_of_a_cheap_hash_are_padded_to_the_dearest_in_use() {
        let pool = HashPool::new(CHEAP, 1, 4).unwrap();
        let dear = HashParams {
            memory_kib: 8192,
            iterations: 3,
            parallelism: 1,
        };
        let dear_phc = hash_with(&argon2_params(dear).unwrap(), "secret").unwrap();
        let cheap_phc = pool.hash("secret".into()).await.unwrap();
        pool.use_kinds(vec![kind_of(&dear_phc).to_owned()])
            .await
            .unwrap();
        let shortest = *pool.costs.lock().samples[kind_of(&dear_phc)]
            .iter()
            .min()
            .unwrap();
        assert!(shortest > Duration::ZERO);
        let started = std::time::Instant::now();
        assert!(!pool.check("wrong".into(), cheap_phc.clone()).await.unwrap());
        assert!(
            started.elapsed() >= shortest,
            "{:?} < {shortest:?}",
            started.elapsed()
        );
        assert!(pool.check("secret".into(), cheap_phc).await.unwrap());
        assert!(pool.needs_rehash(&dear_phc));
        assert!(!pool.needs_rehash(&pool.hash("x".into()).await.unwrap()));
    }

    #[test]
    fn only_checks_cheaper_than_the_dearest_kind_are_padded_to_one_of_its_times() {
        let costs = Costs::default();
        let cheap = "$argon2id$v=19$m=1024,t=1,p=1";
        let dear_kind = "$argon2id$v=19$m=8192,t=3,p=1";
        costs.set_in_use(&[cheap.into(), dear_kind.into()]);
        let dear: Vec<_> = (1..=10).map(|ms| Duration::from_millis(10 * ms)).collect();
        for (ms, dear) in (1..=10).zip(&dear) {
            costs.record(cheap, Duration::from_millis(ms));
            costs.record(dear_kind, *dear);
        }
        assert_eq!(costs.uncalibrated().len(), 2, "no dummies yet");
        costs
            .lock()
            .dummies
            .insert(cheap.into(), format!("{cheap}$salt$hash"));
        let dummy = costs.dearest_dummy().unwrap();
        assert!(
            dummy.starts_with(cheap),
            "the dearest with a dummy: {dummy}"
        );
        assert!(
            costs.pad_to(cheap).is_some(),
            "a check of it is padded to the dear kind"
        );
        for kind in [cheap, dear_kind] {
            let dummy = format!("{kind}$salt$hash");
            costs.lock().dummies.insert(kind.into(), dummy);
        }
        assert_eq!(costs.uncalibrated(), Vec::<String>::new());
        assert_eq!(costs.pad_to(dear_kind), None);
        let drawn: HashSet<_> = (0..400).filter_map(|_| costs.pad_to(cheap)).collect();
        assert!(drawn.iter().all(|time| dear.contains(time)), "{drawn:?}");
        assert!(drawn.len() > 5, "drawn at random, not one time: {drawn:?}");
        // An outlier of the cheap kind does not make it the dearest.
        costs.record(cheap, Duration::from_secs(1));
        assert_eq!(costs.pad_to(dear_kind), None);
        let dummy = costs.dearest_dummy().unwrap();
        assert!(dummy.starts_with(dear_kind), "{dummy}");
        costs.set_in_use(&[cheap.into()]);
        assert_eq!(costs.pad_to(cheap), None, "the dearest in use now");
    }

    /// With the users at one cost, the hashing threads never idle: a check takes its own
    /// time, however long the recent ones took (before, it waited for the longest).
    #[tokio::test]
    async fn a_check_of_the_dearest_kind_takes_its_own_time() {
        let pool = HashPool::new(CHEAP, 1, 4).unwrap();
        let phc = pool.hash("secret".into()).await.unwrap();
        pool.costs.record(kind_of(&phc), Duration::from_secs(2));
        let started = std::time::Instant::now();
        assert!(!pool.check("wrong".into(), phc.clone()).await.unwrap());
        assert!(!pool.check_unknown("wrong".into(), &phc).await.unwrap());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn salts_differ() {
        let params = argon2_params(CHEAP).unwrap();
        assert_ne!(
            hash_with(&params, "x").unwrap(),
            hash_with(&params, "x").unwrap()
        );
    }

    #[test]
    fn a_broken_stored_hash_is_an_error_not_a_mismatch() {
        assert!(matches!(
            verify_with("x", "not a phc string"),
            Err(Error::Hash(_))
        ));
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let params = HashParams {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        };
        assert!(matches!(HashPool::new(params, 1, 1), Err(Error::Hash(_))));
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies() {
        let pool = HashPool::new(CHEAP, 2, 4).unwrap();
        let phc = pool.hash("secret".into()).await.unwrap();
        assert!(pool.verify("secret".into(), phc.clone()).await.unwrap());
        assert!(!pool.verify("Secret".into(), phc).await.unwrap());
        assert_eq!(pool.jobs(), 3);
        assert_eq!(pool.depth(), 0);
    }

    #[tokio::test]
    async fn queued_jobs_add_their_wait() {
        let pool = HashPool::new(CHEAP, 1, 4).unwrap();
        let (a, b, c) = tokio::join!(
            pool.hash("one".into()),
            pool.hash("two".into()),
            pool.hash("three".into())
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        // One thread: the second and third jobs waited at least one hash each.
        assert!(pool.waited() > std::time::Duration::ZERO);
    }

    #[tokio::test]
    async fn one_caller_at_a_time_is_never_busy_even_without_a_queue() {
        let pool = HashPool::new(CHEAP, 1, 0).unwrap();
        for _ in 0..50 {
            pool.hash("x".into()).await.unwrap();
        }
        assert_eq!(pool.depth(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_at_once() {
        let pool = HashPool::new(CHEAP, 1, 0).unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        // Occupy the only thread until released, then check nothing more is accepted.
        let occupied = pool.clone();
        let blocked = tokio::spawn(async move {
            occupied
                .run(move || {
                    let _ = started.send(());
                    let _ = wait.recv();
                })
                .await
        });
        running.await.unwrap();
        assert_eq!(pool.depth(), 1);
        let refused = pool.hash("x".into()).await;
        assert!(matches!(refused, Err(Error::Busy { retry_after }) if retry_after == RETRY_AFTER));
        release.send(()).unwrap();
        blocked.await.unwrap().unwrap();
    }
}
