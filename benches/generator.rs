//! Deterministic generator of large, realistic `terraform show -json` plans (format 1.2,
//! Terraform 1.9.8) for the scale benchmark and the generated-plan tests. Std only.
//!
//! A plan is a run of "units" of about 120 KB. Unit `N` is one instance `module.svc["uN"]` of a
//! Cloud Run module (service account, v2 service, its invoker IAM in one of four styles, a
//! project IAM grant, sometimes a v2 job with an invoker grant) plus ten unrelated resources with
//! realistic bulk in the root module and in `module.infra[0]`. Every 7th unit (`N % 7 == 0`)
//! grants `allUsers` `roles/run.invoker` on an existing ingress-ALL service; no other unit uses
//! `allUsers`. The JSON is compact, as `terraform show -json` prints it, and streamed section by
//! section: a unit is rebuilt from its own PRNG stream whenever a section needs it, so memory
//! stays bounded by one unit whatever the plan size.
//!
//! The data-heavy builders are `#[rustfmt::skip]`: they are attribute tables, one line per
//! attribute group, and would triple in length once formatted.
#![allow(dead_code)]

use std::io::Write;

/// What runguard must find in a generated plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// Cloud Run services and jobs in the plan.
    pub workloads: usize,
    /// Cloud Run services in the plan.
    pub services: usize,
    /// Services that the plan makes public (an `allUsers` invoker grant is added).
    pub public_services: usize,
    /// Runtime service accounts that the plan grants project-level `roles/editor`.
    pub editor_accounts: usize,
}

/// The kind of plan to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Units as described at the top of this file.
    Default,
    /// The default units, and every 10th unit's runtime account also gains project-level
    /// `roles/editor` (`module.svc["uN"].google_project_iam_member.editor[0]`, created). Editor
    /// carries invoke and act-as on every workload in the project, so each such grant reaches
    /// every workload: the plan of "Findings a reviewer can act on", whose report must grow with
    /// the plan's changes and not as workloads × grants. At 125 MB it has more than 1,000
    /// services, 100 such accounts and 10,000 unrelated resources.
    IamDense,
}

impl Shape {
    /// Its name in the benchmark's table and in generated file names.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Default => "default",
            Shape::IamDense => "iam-dense",
        }
    }
}

/// Writes a plan of the default shape of roughly `target_bytes` (within ±10%) into `out`; the
/// same seed and size give byte-identical output. Returns what runguard must find.
pub fn generate(target_bytes: usize, seed: u64, out: &mut Vec<u8>) -> Expected {
    generate_shape(Shape::Default, target_bytes, seed, out)
}

/// Writes a plan of `shape` of roughly `target_bytes` (within ±10%) into `out`; the same shape,
/// seed and size give byte-identical output. Returns what runguard must find.
pub fn generate_shape(shape: Shape, target_bytes: usize, seed: u64, out: &mut Vec<u8>) -> Expected {
    let mut scratch = Vec::new();
    write_plan(shape, seed, 0, 0, &mut scratch);
    // Whole units while they fit (exact sizes for the first 64, their average beyond), then
    // padding buckets of a few KB each to come close to the target.
    let (mut units, mut total, mut measured) = (0usize, scratch.len(), 0usize);
    loop {
        let size = if units < 64 {
            scratch.clear();
            unit_bytes(shape, seed, units, &mut scratch);
            measured += scratch.len();
            scratch.len()
        } else {
            measured / 64
        };
        if units > 0 && total + size > target_bytes {
            break;
        }
        units += 1;
        total += size;
    }
    scratch.clear();
    let p = pad(seed, 0);
    for prior in [false, true] {
        write_state(&mut scratch, &p, side(&p, prior).unwrap());
    }
    write_change(&mut scratch, &p);
    let pad_size = scratch.len() + 3;
    let pads = (target_bytes.saturating_sub(total) + pad_size / 2) / pad_size;
    out.clear();
    out.reserve(total + pads * pad_size + total / 16);
    write_plan(shape, seed, units, pads, out)
}

/// Writes a plan of exactly `units` units and no padding: many workloads in varied shapes (the
/// unit's invoker IAM style, actions, identity and job are drawn from `seed`) for tests that
/// need breadth more than bytes. Returns what runguard must find.
pub fn generate_units(units: usize, seed: u64, out: &mut Vec<u8>) -> Expected {
    out.clear();
    write_plan(Shape::Default, seed, units, 0, out)
}

// ---------------------------------------------------------------------------------------------
// A xorshift64 PRNG and a small JSON value, built for one resource at a time.

struct Rng(u64);

impl Rng {
    /// Stream `stream` of `seed` (splitmix64-mixed, so neighbouring streams are unrelated).
    fn new(seed: u64, stream: u64) -> Rng {
        let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn hex(&mut self, len: usize) -> String {
        let digits = b"0123456789abcdef";
        (0..len)
            .map(|_| char::from(digits[self.below(16) as usize]))
            .collect()
    }
}

#[derive(Clone)]
enum J {
    Null,
    B(bool),
    I(i64),
    S(String),
    A(Vec<J>),
    O(Vec<(String, J)>),
}
const N: J = J::Null;

macro_rules! from {
    ($($t:ty => |$x:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for J { fn from($x: $t) -> J { $e } })*
    };
}
from! {
    &str => |s| J::S(s.to_string()), String => |s| J::S(s), &String => |s| J::S(s.clone()),
    bool => |b| J::B(b), i64 => |i| J::I(i), i32 => |i| J::I(i.into()), u32 => |i| J::I(i.into()),
    Vec<J> => |v| J::A(v),
}

/// An object with its keys sorted, as Terraform writes them.
fn obj<K: Into<String>>(pairs: Vec<(K, J)>) -> J {
    let mut v: Vec<(String, J)> = pairs.into_iter().map(|(k, v)| (k.into(), v)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    J::O(v)
}
macro_rules! o {
    ($($k:literal => $v:expr),* $(,)?) => { obj::<&str>(vec![$(($k, J::from($v))),*]) };
}
fn strs(xs: &[&str]) -> J {
    J::A(xs.iter().map(|s| J::from(*s)).collect())
}
fn e() -> J {
    J::A(Vec::new())
}
/// Configuration expressions: `{"constant_value": v}` and `{"references": [...]}`.
fn cv(v: impl Into<J>) -> J {
    o! {"constant_value" => v.into()}
}
fn refs(xs: &[&str]) -> J {
    o! {"references" => strs(xs)}
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn write_json(out: &mut Vec<u8>, j: &J) {
    match j {
        J::Null => out.extend_from_slice(b"null"),
        J::B(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::I(i) => {
            let _ = write!(out, "{i}");
        }
        J::S(s) => write_str(out, s),
        J::A(v) => {
            out.push(b'[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, x);
            }
            out.push(b']');
        }
        J::O(m) => {
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_json(out, x);
            }
            out.push(b'}');
        }
    }
}

/// The `sensitive_values` / `after_unknown` skeleton of a value: containers kept, scalar leaves
/// dropped from objects and `false` in arrays.
fn shape(j: &J) -> J {
    match j {
        J::O(m) => J::O(
            m.iter()
                .filter(|(_, v)| matches!(v, J::A(_) | J::O(_)))
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect(),
        ),
        J::A(v) => J::A(v.iter().map(shape).collect()),
        _ => J::B(false),
    }
}

/// Sets `true` at a `/`-separated path (numbers index arrays), or removes the leaf if `remove`.
fn at_path(j: &mut J, path: &str, remove: bool) {
    let (head, rest) = path
        .split_once('/')
        .map_or((path, None), |(h, r)| (h, Some(r)));
    match j {
        J::O(m) => match (rest, m.binary_search_by(|(k, _)| k.as_str().cmp(head))) {
            (None, Ok(i)) if remove => drop(m.remove(i)),
            (None, Ok(i)) => m[i].1 = J::B(true),
            (None, Err(i)) if !remove => m.insert(i, (head.to_string(), J::B(true))),
            (Some(r), Ok(i)) => at_path(&mut m[i].1, r, remove),
            _ => {}
        },
        J::A(v) => {
            if let (Ok(i), Some(r)) = (head.parse::<usize>(), rest) {
                if let Some(x) = v.get_mut(i) {
                    at_path(x, r, remove);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Resources and their lifecycle.

const PROJECT: &str = "acme-prod";
const PROJECT_NUMBER: i64 = 481516234200;
const REGION: &str = "europe-west1";
const GOOGLE: &str = "registry.terraform.io/hashicorp/google";
const SCHEDULER_SA: &str = "scheduler@acme-prod.iam.gserviceaccount.com";
#[rustfmt::skip]
const WORDS: [&str; 12] = ["orders", "billing", "search", "catalog", "checkout", "auth", "media", "notify", "ledger", "reports", "pricing", "stock"];

#[derive(Clone, Copy, PartialEq)]
enum Action {
    NoOp,
    Update,
    Create,
    Replace,
}

enum Key {
    None,
    Int(i64),
    Str(String),
}

/// Where a resource lives: the root module, its unit's `module.svc[...]`, or `module.infra[0]`.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    Svc,
    Infra,
}

struct Res {
    place: Place,
    module: Option<String>,
    ty: &'static str,
    name: &'static str,
    key: Key,
    action: Action,
    before: Option<J>,
    /// Without its unknown attributes.
    after: Option<J>,
    unknown: Vec<&'static str>,
}

impl Res {
    fn address(&self) -> String {
        let module = self
            .module
            .as_ref()
            .map_or(String::new(), |m| format!("{m}."));
        let key = match &self.key {
            Key::None => String::new(),
            Key::Int(i) => format!("[{i}]"),
            Key::Str(s) => format!("[\"{s}\"]"),
        };
        format!("{module}{}.{}{key}", self.ty, self.name)
    }
}

/// A resource whose versions are `value(0)` (prior) and `value(1)` (changed): a no-op keeps
/// version 0, an update moves to 1 with `upd` unknown, a create (of version 0) or a replace (by
/// version 1) has the `computed` attributes unknown.
fn res_of(
    at: (Place, Option<&str>, &'static str, &'static str, Key),
    action: Action,
    value: &dyn Fn(u32) -> J,
    computed: &[&'static str],
    upd: &[&'static str],
) -> Res {
    let (place, module, ty, name, key) = at;
    let (before, after, unknown) = match action {
        Action::NoOp => {
            let v = value(0);
            (Some(v.clone()), Some(v), Vec::new())
        }
        Action::Update => (Some(value(0)), Some(value(1)), upd.to_vec()),
        Action::Create => (None, Some(value(0)), computed.to_vec()),
        Action::Replace => (Some(value(0)), Some(value(1)), computed.to_vec()),
    };
    let after = after.map(|mut a| {
        unknown.iter().for_each(|p| at_path(&mut a, p, true));
        a
    });
    let module = module.map(str::to_string);
    Res {
        place,
        module,
        ty,
        name,
        key,
        action,
        before,
        after,
        unknown,
    }
}

struct Unit {
    key: String,
    res: Vec<Res>,
    workloads: usize,
    public: bool,
    /// Its runtime account gains project-level `roles/editor` (the IAM-dense shape).
    editor: bool,
    vars: J,
}

#[rustfmt::skip]
const RUN_COMPUTED: &[&str] = &["conditions", "create_time", "creator", "delete_time", "effective_annotations", "etag",
    "expire_time", "generation", "id", "last_modifier", "latest_created_revision", "latest_ready_revision", "launch_stage",
    "observed_generation", "reconciling", "terminal_condition", "traffic", "traffic_statuses", "uid", "update_time", "uri", "urls"];
const IAM_COMPUTED: &[&str] = &["etag", "id"];
const V1_IAM_COMPUTED: &[&str] = &["etag", "id", "location", "project"];

fn time(rng: &mut Rng) -> String {
    let (mo, d, h) = (1 + rng.below(12), 1 + rng.below(28), rng.below(24));
    let (mi, s, us) = (rng.below(60), rng.below(60), rng.below(1_000_000));
    format!("2024-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
}

fn labels(word: &str, v: u32, provisioned: bool) -> J {
    let mut l = vec![
        ("env", J::from("prod")),
        ("team", word.into()),
        ("cost-center", format!("cc-{}", 4100 + v).into()),
    ];
    if provisioned {
        l.push(("goog-terraform-provisioned", "true".into()));
    }
    obj(l)
}

/// A service (or, with `job`, a job) as the provider reports it once it exists.
#[rustfmt::skip]
fn run_value(name: &str, sa: Option<&str>, ingress: &str, tag: u32, created: &str, uid: &str, job: bool) -> J {
    let base = format!("projects/{PROJECT}/locations/{REGION}/{}/{name}", if job { "jobs" } else { "services" });
    let env: Vec<J> = ["LOG_LEVEL", "APP_ENV", "FEATURE_FLAGS", "OTEL_EXPORTER"].iter()
        .map(|k| o! {"name" => *k, "value" => format!("{}-{tag}", k.to_lowercase()), "value_source" => e()}).collect();
    let container = o! {
        "args" => if job { strs(&["--since=24h", "--batch=500"]) } else { N }, "base_image_uri" => "", "build_info" => e(),
        "command" => N, "depends_on" => N, "env" => env, "image" => format!("{REGION}-docker.pkg.dev/{PROJECT}/containers/{name}:1.{tag}.0"),
        "liveness_probe" => e(), "name" => "app", "readiness_probe" => e(), "volume_mounts" => e(), "working_dir" => "",
        "ports" => if job { e() } else { J::A(vec![o! {"container_port" => 8080, "name" => "http1"}]) },
        "resources" => vec![o! {"cpu_idle" => true, "limits" => o! {"cpu" => "1000m", "memory" => "512Mi"}, "startup_cpu_boost" => false}],
        "startup_probe" => vec![o! {"failure_threshold" => 1, "grpc" => e(), "http_get" => e(), "initial_delay_seconds" => 0, "period_seconds" => 240,
            "tcp_socket" => vec![o! {"port" => 8080}], "timeout_seconds" => 240}],
    };
    let mut tpl = vec![("annotations", N), ("containers", J::A(vec![container])), ("encryption_key", "".into()), ("labels", N),
        ("execution_environment", "".into()), ("gpu_zonal_redundancy_disabled", false.into()), ("node_selector", e()), ("volumes", e()), ("vpc_access", e())];
    tpl.extend(sa.map(|sa| ("service_account", sa.into())));
    let creator = format!("terraform-ci@{PROJECT}.iam.gserviceaccount.com");
    let cond = o! {"execution_reason" => "", "last_transition_time" => created, "message" => "", "reason" => "", "revision_reason" => "",
        "severity" => "", "state" => "CONDITION_SUCCEEDED", "type" => "Ready"};
    let mut v = vec![("annotations", N), ("binary_authorization", e()), ("client", N), ("client_version", N), ("conditions", e()),
        ("create_time", created.into()), ("creator", creator.clone().into()), ("delete_time", "".into()), ("deletion_protection", true.into()),
        ("effective_annotations", o! {}), ("effective_labels", o! {"goog-terraform-provisioned" => "true"}), ("etag", format!("\"CM3D{uid}/{name}\"").into()),
        ("expire_time", "".into()), ("generation", tag.to_string().into()), ("id", base.clone().into()), ("labels", N), ("last_modifier", creator.into()),
        ("launch_stage", "GA".into()), ("location", REGION.into()), ("name", name.into()), ("observed_generation", tag.to_string().into()),
        ("project", PROJECT.into()), ("reconciling", false.into()), ("terminal_condition", J::A(vec![cond])),
        ("terraform_labels", o! {"goog-terraform-provisioned" => "true"}), ("timeouts", N), ("uid", uid.into()), ("update_time", created.into())];
    if job {
        tpl.extend([("max_retries", 3.into()), ("timeout", "600s".into())]);
        let task = o! {"annotations" => N, "labels" => N, "parallelism" => 1, "task_count" => 1, "template" => vec![obj(tpl)]};
        v.extend([("execution_count", 4.into()), ("latest_created_execution", e()), ("template", J::A(vec![task]))]);
    } else {
        tpl.extend([("max_instance_request_concurrency", 80.into()), ("revision", "".into()), ("session_affinity", false.into()),
            ("scaling", J::A(vec![o! {"max_instance_count" => 100, "min_instance_count" => 0}])), ("timeout", "300s".into())]);
        let traffic = || o! {"percent" => 100, "revision" => "", "tag" => "", "type" => "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"};
        let revision = format!("{base}/revisions/{name}-{tag:05}-{}", &uid[..3]);
        let uri = format!("https://{name}-{PROJECT_NUMBER}.{REGION}.run.app");
        v.extend([("build_config", e()), ("custom_audiences", N), ("default_uri_disabled", N), ("description", N), ("iap_enabled", N),
            ("ingress", ingress.into()), ("invoker_iam_disabled", N), ("latest_created_revision", revision.clone().into()),
            ("latest_ready_revision", revision.into()), ("multi_region_settings", e()), ("scaling", e()), ("template", J::A(vec![obj(tpl)])),
            ("traffic", J::A(vec![traffic()])), ("traffic_statuses", J::A(vec![traffic().merge("uri", "".into())])),
            ("uri", uri.clone().into()), ("urls", J::A(vec![uri.into()]))]);
    }
    obj(v)
}

/// A `*_iam_member` granting `roles/run.invoker` on the service or job `name`.
#[rustfmt::skip]
fn invoker_member(kind: &str, name: &str, member: &str) -> J {
    o! {"condition" => e(), "etag" => "BwYx2Lr7hTc=", "id" => format!("projects/{PROJECT}/locations/{REGION}/{kind}/{name}/roles/run.invoker/{member}"),
        "location" => REGION, "member" => member, "name" => name, "project" => PROJECT, "role" => "roles/run.invoker"}
}

/// One unit: its Cloud Run module instance and its unrelated resources.
#[rustfmt::skip]
fn unit(shape: Shape, seed: u64, i: usize) -> Unit {
    use Action::*;
    let mut rng = Rng::new(seed, i as u64);
    let key = format!("u{i}");
    let module = format!("module.svc[\"{key}\"]");
    let at = |ty, name, key| (Place::Svc, Some(module.as_str()), ty, name, key);
    let word = WORDS[i % WORDS.len()];
    let name = format!("{word}-{i}");
    let sa = format!("{name}-run@{PROJECT}.iam.gserviceaccount.com");
    let public = i % 7 == 0;
    let mut res = Vec::new();

    // The service: a public unit updates or keeps an existing ingress-ALL service.
    let svc_action = if public { rng.pick(&[NoOp, Update]) } else { rng.pick(&[NoOp, NoOp, Update, Update, Create, Replace]) };
    let ingress = if public { "INGRESS_TRAFFIC_ALL" } else {
        rng.pick(&["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"])
    };
    let default_sa = svc_action == Create && rng.below(3) == 0;
    let tag = 10 + rng.below(80) as u32;
    let created = time(&mut rng);
    let uid = format!("{}-{}-4{}-{}", rng.hex(8), rng.hex(4), rng.hex(3), rng.hex(12));
    let new = |a: Action| if svc_action == Create { Create } else { a };

    let sa_value = |_| o! {"account_id" => format!("{name}-run"), "create_ignore_already_exists" => N, "description" => format!("Runtime identity of {name}"),
        "disabled" => false, "display_name" => format!("{name} runtime"), "email" => &sa, "id" => format!("projects/{PROJECT}/serviceAccounts/{sa}"),
        "member" => format!("serviceAccount:{sa}"), "name" => format!("projects/{PROJECT}/serviceAccounts/{sa}"), "project" => PROJECT,
        "timeouts" => N, "unique_id" => format!("1088{i:017}")};
    res.push(res_of(at("google_service_account", "runtime", Key::None), new(NoOp), &sa_value, &["id", "name", "unique_id"], &[]));
    // Without a configured identity the service runs as the default one, unknown until created.
    let svc_sa = if default_sa { None } else { Some(sa.as_str()) };
    let svc_value = |v| run_value(&name, svc_sa, ingress, tag + v, &created, &uid, false);
    let mut computed = RUN_COMPUTED.to_vec();
    computed.extend(default_sa.then_some("template/0/service_account"));
    let updated = &["etag", "latest_created_revision", "latest_ready_revision", "update_time"];
    res.push(res_of(at("google_cloud_run_v2_service", "this", Key::None), svc_action, &svc_value, &computed, updated));

    // Its invoker IAM, never allUsers; a public unit keeps to non-authoritative members.
    let callers = [format!("group:{word}-callers@acme.com"), format!("serviceAccount:gateway-{i}@{PROJECT}.iam.gserviceaccount.com"),
        format!("user:dev{i}@acme.com")];
    let style = if public { rng.pick(&["member", "v1_member"]) } else { rng.pick(&["member", "binding", "policy", "v1_member"]) };
    let iam_action = new(rng.pick(&[NoOp, NoOp, NoOp, Update]));
    let member_action = if iam_action == Update { Replace } else { iam_action }; // `member` forces replacement
    let v1_service = format!("v1/projects/{PROJECT}/locations/{REGION}/services/{name}");
    let members = |v: u32| J::A(callers[..2 + v as usize].iter().map(J::from).collect());
    match style {
        "member" => {
            let f = |v| invoker_member("services", &name, &callers[v as usize]);
            res.push(res_of(at("google_cloud_run_v2_service_iam_member", "invoker", Key::Int(0)), member_action, &f, IAM_COMPUTED, &[]));
        }
        "binding" => {
            let f = |v| o! {"condition" => e(), "etag" => "BwYx2Lr7hTc=", "id" => format!("projects/{PROJECT}/locations/{REGION}/services/{name}/roles/run.invoker"),
                "location" => REGION, "members" => members(v), "name" => &name, "project" => PROJECT, "role" => "roles/run.invoker"};
            res.push(res_of(at("google_cloud_run_v2_service_iam_binding", "invokers", Key::Int(0)), iam_action, &f, IAM_COMPUTED, &[]));
        }
        "policy" => {
            let f = |v: u32| {
                let quoted: Vec<String> = callers[..2 + v as usize].iter().map(|c| format!("\"{c}\"")).collect();
                let policy = format!("{{\"bindings\":[{{\"members\":[{}],\"role\":\"roles/run.invoker\"}},{{\"members\":[\"group:{word}-ops@acme.com\"],\"role\":\"roles/run.viewer\"}}]}}", quoted.join(","));
                let id = format!("projects/{PROJECT}/locations/{REGION}/services/{name}");
                o! {"etag" => "BwYx2Lr7hTc=", "id" => &id, "location" => REGION, "name" => &id, "policy_data" => policy, "project" => PROJECT}
            };
            res.push(res_of(at("google_cloud_run_v2_service_iam_policy", "invokers", Key::Int(0)), iam_action, &f, IAM_COMPUTED, &[]));
        }
        _ => {
            let f = |v| o! {"condition" => e(), "etag" => "BwYx2Lr7hTc=", "id" => format!("{v1_service}/roles/run.invoker/{}", callers[v as usize]),
                "location" => REGION, "member" => &callers[v as usize], "project" => PROJECT, "role" => "roles/run.invoker", "service" => &v1_service};
            res.push(res_of(at("google_cloud_run_service_iam_member", "invoker_v1", Key::Int(0)), member_action, &f, V1_IAM_COMPUTED, &[]));
        }
    }
    if public && style == "member" {
        let f = |_| invoker_member("services", &name, "allUsers");
        res.push(res_of(at("google_cloud_run_v2_service_iam_member", "public", Key::Int(0)), Create, &f, IAM_COMPUTED, &[]));
    } else if public {
        let f = |_| o! {"condition" => e(), "member" => "allUsers", "role" => "roles/run.invoker", "service" => &v1_service};
        res.push(res_of(at("google_cloud_run_service_iam_member", "public_v1", Key::Int(0)), Create, &f, V1_IAM_COMPUTED, &[]));
    }
    let logs = |_| o! {"condition" => e(), "etag" => "BwYx2Lr7hTc=", "id" => format!("{PROJECT}/roles/logging.logWriter/serviceAccount:{sa}"),
        "member" => format!("serviceAccount:{sa}"), "project" => PROJECT, "role" => "roles/logging.logWriter"};
    res.push(res_of(at("google_project_iam_member", "logs", Key::None), new(NoOp), &logs, IAM_COMPUTED, &[]));
    let editor = shape == Shape::IamDense && i % 10 == 0;
    if editor {
        let f = |_| o! {"condition" => e(), "member" => format!("serviceAccount:{sa}"), "project" => PROJECT, "role" => "roles/editor"};
        res.push(res_of(at("google_project_iam_member", "editor", Key::Int(0)), Create, &f, IAM_COMPUTED, &[]));
    }

    let with_job = rng.below(3) == 0;
    if with_job {
        let job_action = new(rng.pick(&[NoOp, Update, Create]));
        let job_name = format!("{name}-batch");
        let job = |v| run_value(&job_name, Some(&sa), "", tag + v, &created, &uid, true);
        res.push(res_of(at("google_cloud_run_v2_job", "batch", Key::Int(0)), job_action, &job, RUN_COMPUTED, &["etag", "update_time"]));
        let inv = |_| invoker_member("jobs", &job_name, &format!("serviceAccount:{SCHEDULER_SA}"));
        let inv_action = if job_action == Create { Create } else { NoOp };
        res.push(res_of(at("google_cloud_run_v2_job_iam_member", "scheduler", Key::Int(0)), inv_action, &inv, IAM_COMPUTED, &[]));
    }
    unrelated(&mut rng, &key, word, &mut res);
    let mut vars = o! {"callers" => strs(&[&callers[0], &callers[1]]), "default_sa" => default_sa, "iam_style" => style,
        "image_tag" => format!("1.{tag}.0"), "ingress" => ingress, "name" => &name, "public" => public, "with_job" => with_job};
    if shape == Shape::IamDense {
        vars = vars.merge("editor", editor.into());
    }
    Unit { key, res, workloads: 1 + with_job as usize, public, editor, vars }
}

/// Ten resources with realistic bulk that runguard must skip: two instances, a bucket, a node
/// pool and two firewalls in the root module; two tables and two subscriptions in `module.infra[0]`.
#[rustfmt::skip]
fn unrelated(rng: &mut Rng, key: &str, word: &str, res: &mut Vec<Res>) {
    use Action::*;
    let root = |ty, name, k: String| (Place::Root, None, ty, name, Key::Str(k));
    let infra = |ty, name, k: String| (Place::Infra, Some("module.infra[0]"), ty, name, Key::Str(k));
    let zone = format!("{REGION}-{}", rng.pick(&["b", "c", "d"]));
    let compute = format!("https://www.googleapis.com/compute/v1/projects/{PROJECT}");
    let net = format!("{compute}/global/networks/main");
    let act = |rng: &mut Rng| rng.pick(&[NoOp, NoOp, NoOp, Update, Update, Create]);
    for k in 0..2 {
        let name = format!("{key}-worker-{k}");
        let id = (1_000_000_000_000_000 + rng.below(1 << 50)).to_string();
        let (ip, fp) = (format!("10.{}.{}.{}", rng.below(255), rng.below(255), 2 + rng.below(250)), rng.hex(16));
        let f = |v: u32| o! {
            "advanced_machine_features" => e(), "allow_stopping_for_update" => true, "attached_disk" => e(),
            "boot_disk" => vec![o! {"auto_delete" => true, "device_name" => "persistent-disk-0", "disk_encryption_key_raw" => N, "disk_encryption_key_sha256" => "",
                "guest_os_features" => strs(&["UEFI_COMPATIBLE", "GVNIC"]), "interface" => "", "kms_key_self_link" => "", "mode" => "READ_WRITE",
                "initialize_params" => vec![o! {"enable_confidential_compute" => false, "image" => "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20241009",
                    "labels" => o! {}, "provisioned_iops" => 0, "provisioned_throughput" => 0, "resource_manager_tags" => N, "size" => 20 + 10 * v, "storage_pool" => "", "type" => "pd-balanced"}],
                "source" => format!("{compute}/zones/{zone}/disks/{name}")}],
            "can_ip_forward" => false, "confidential_instance_config" => e(), "cpu_platform" => "Intel Broadwell", "current_status" => "RUNNING",
            "deletion_protection" => false, "description" => "", "desired_status" => N, "effective_labels" => labels(word, v, true), "enable_display" => false,
            "guest_accelerator" => e(), "hostname" => "", "id" => format!("projects/{PROJECT}/zones/{zone}/instances/{name}"), "instance_id" => &id,
            "label_fingerprint" => &fp, "labels" => labels(word, v, false), "machine_type" => if v == 0 { "e2-standard-2" } else { "e2-standard-4" },
            "metadata" => o! {"enable-oslogin" => "TRUE", "block-project-ssh-keys" => "TRUE", "startup-script" => "#!/bin/bash\napt-get install -y nginx\n"},
            "metadata_fingerprint" => &fp, "metadata_startup_script" => N, "min_cpu_platform" => "", "name" => &name,
            "network_interface" => vec![o! {"access_config" => e(), "alias_ip_range" => e(), "internal_ipv6_prefix_length" => 0, "ipv6_access_config" => e(), "ipv6_access_type" => "",
                "ipv6_address" => "", "name" => "nic0", "network" => &net, "network_attachment" => "", "network_ip" => &ip, "nic_type" => "", "queue_count" => 0,
                "stack_type" => "IPV4_ONLY", "subnetwork" => format!("{compute}/regions/{REGION}/subnetworks/main-eu"), "subnetwork_project" => PROJECT}],
            "network_performance_config" => e(), "params" => e(), "project" => PROJECT, "reservation_affinity" => e(), "resource_policies" => N,
            "scheduling" => vec![o! {"automatic_restart" => true, "instance_termination_action" => "", "local_ssd_recovery_timeout" => e(), "max_run_duration" => e(),
                "min_node_cpus" => 0, "node_affinities" => e(), "on_host_maintenance" => "MIGRATE", "on_instance_stop_action" => e(), "preemptible" => false, "provisioning_model" => "STANDARD"}],
            "scratch_disk" => e(), "self_link" => format!("{compute}/zones/{zone}/instances/{name}"),
            "service_account" => vec![o! {"email" => format!("{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"), "scopes" => strs(&["https://www.googleapis.com/auth/devstorage.read_only",
                "https://www.googleapis.com/auth/logging.write"])}],
            "shielded_instance_config" => vec![o! {"enable_integrity_monitoring" => true, "enable_secure_boot" => true, "enable_vtpm" => true}],
            "tags" => strs(&["http-server", "https-server", word]), "tags_fingerprint" => &fp, "terraform_labels" => labels(word, v, true), "timeouts" => N, "zone" => &zone,
        };
        res.push(res_of(root("google_compute_instance", "worker", format!("{key}-{k}")), act(rng), &f,
            &["cpu_platform", "current_status", "id", "instance_id", "label_fingerprint", "metadata_fingerprint", "self_link", "tags_fingerprint"], &["metadata_fingerprint", "label_fingerprint"]));
    }
    let action = act(rng);
    res.push(bucket(rng, "data", key, word, action));

    let f = |v: u32| o! {
        "autoscaling" => vec![o! {"location_policy" => "BALANCED", "max_node_count" => 5 + v, "min_node_count" => 1, "total_max_node_count" => 0, "total_min_node_count" => 0}],
        "cluster" => format!("projects/{PROJECT}/locations/{REGION}/clusters/main"), "id" => format!("projects/{PROJECT}/locations/{REGION}/clusters/main/nodePools/{key}-pool"),
        "initial_node_count" => 1, "instance_group_urls" => strs(&[&format!("{compute}/zones/{zone}/instanceGroupManagers/gke-main-{key}-pool-grp")]),
        "location" => REGION, "management" => vec![o! {"auto_repair" => true, "auto_upgrade" => true}], "max_pods_per_node" => 110, "name" => format!("{key}-pool"), "name_prefix" => "",
        "network_config" => vec![o! {"additional_node_network_configs" => e(), "additional_pod_network_configs" => e(), "create_pod_range" => false, "enable_private_nodes" => true,
            "network_performance_config" => e(), "pod_cidr_overprovision_config" => e(), "pod_ipv4_cidr_block" => "10.48.0.0/14", "pod_range" => "gke-main-pods"}],
        "node_config" => vec![o! {"advanced_machine_features" => e(), "boot_disk_kms_key" => "", "disk_size_gb" => 100, "disk_type" => "pd-balanced", "effective_taints" => e(),
            "enable_confidential_storage" => false, "image_type" => "COS_CONTAINERD", "labels" => labels(word, v, false), "local_ssd_count" => 0, "logging_variant" => "DEFAULT",
            "machine_type" => "e2-standard-4", "metadata" => o! {"disable-legacy-endpoints" => "true"}, "oauth_scopes" => strs(&["https://www.googleapis.com/auth/cloud-platform"]),
            "preemptible" => false, "service_account" => format!("gke-nodes@{PROJECT}.iam.gserviceaccount.com"), "spot" => false, "tags" => strs(&["gke-main", word]), "taint" => e(),
            "shielded_instance_config" => vec![o! {"enable_integrity_monitoring" => true, "enable_secure_boot" => true}], "workload_metadata_config" => vec![o! {"mode" => "GKE_METADATA"}]}],
        "node_count" => 2, "node_locations" => strs(&[&format!("{REGION}-b"), &format!("{REGION}-c"), &format!("{REGION}-d")]), "operation" => N, "placement_policy" => e(),
        "project" => PROJECT, "queued_provisioning" => e(), "timeouts" => N, "version" => "1.30.5-gke.1014001",
        "upgrade_settings" => vec![o! {"blue_green_settings" => e(), "max_surge" => 1, "max_unavailable" => 0, "strategy" => "SURGE"}],
    };
    res.push(res_of(root("google_container_node_pool", "pool", key.into()), act(rng), &f, &["id", "instance_group_urls", "operation", "version"], &[]));

    for k in 0..2 {
        let fw = format!("{key}-allow-{}", ["https", "health-checks"][k]);
        let f = |v: u32| o! {
            "allow" => vec![o! {"ports" => if k == 0 { strs(&["443", "8443"]) } else { strs(&["80", "443", "8080"]) }, "protocol" => "tcp"}],
            "creation_timestamp" => "2024-06-03T09:14:27.112-07:00", "deny" => e(), "description" => format!("Managed by terraform for {word}"), "destination_ranges" => e(),
            "direction" => "INGRESS", "disabled" => false, "enable_logging" => N, "id" => format!("projects/{PROJECT}/global/firewalls/{fw}"),
            "log_config" => vec![o! {"metadata" => if v == 0 { "EXCLUDE_ALL_METADATA" } else { "INCLUDE_ALL_METADATA" }}], "name" => &fw, "network" => &net,
            "priority" => 1000, "project" => PROJECT, "self_link" => format!("{compute}/global/firewalls/{fw}"), "source_service_accounts" => N, "source_tags" => N,
            "source_ranges" => if k == 0 { strs(&["10.0.0.0/8"]) } else { strs(&["35.191.0.0/16", "130.211.0.0/22"]) },
            "target_service_accounts" => N, "target_tags" => strs(&[word, "http-server"]), "timeouts" => N,
        };
        res.push(res_of(root("google_compute_firewall", "fw", format!("{key}-{k}")), act(rng), &f, &["creation_timestamp", "id", "self_link"], &[]));
    }
    const COLUMNS: [&str; 30] = ["id", "tenant", "user_id", "session_id", "event_type", "event_ts", "ingest_ts", "country", "region", "device", "os", "browser",
        "app_version", "referrer", "campaign", "amount_micros", "currency", "sku", "quantity", "status", "latency_ms", "error_code", "trace_id",
        "span_id", "ip_hash", "consent", "experiment", "variant", "score", "payload"];
    for (k, kind) in ["events", "sessions"].into_iter().enumerate() {
        let table = format!("{word}_{key}_{kind}");
        let f = |v: u32| {
            let fields: Vec<String> = COLUMNS[..28 + v as usize].iter().enumerate().map(|(n, c)| format!(
                "{{{}\"mode\":\"{}\",\"name\":\"{c}\",\"type\":\"{}\"}}", if n < 8 { format!("\"description\":\"{}\",", c.replace('_', " ")) } else { String::new() },
                if n < 2 { "REQUIRED" } else { "NULLABLE" }, column_type(c))).collect();
            o! {"biglake_configuration" => e(), "clustering" => strs(&["tenant", "event_type"]), "creation_time" => 1717400000000i64, "dataset_id" => "analytics",
                "deletion_protection" => true, "description" => format!("{word} {kind}"), "effective_labels" => labels(word, v, true), "encryption_configuration" => e(),
                "etag" => "q1Zx7mT0pW9bK2sV4nC8dA==", "expiration_time" => 0, "external_data_configuration" => e(), "friendly_name" => "",
                "id" => format!("projects/{PROJECT}/datasets/analytics/tables/{table}"), "labels" => labels(word, v, false), "last_modified_time" => 1730800000000i64 + v as i64,
                "location" => "EU", "materialized_view" => e(), "max_staleness" => "", "num_bytes" => 48_213_331i64, "num_long_term_bytes" => 0, "num_rows" => 912_334,
                "project" => PROJECT, "range_partitioning" => e(), "require_partition_filter" => false, "resource_tags" => N, "schema" => format!("[{}]", fields.join(",")),
                "self_link" => format!("https://bigquery.googleapis.com/bigquery/v2/projects/{PROJECT}/datasets/analytics/tables/{table}"), "table_constraints" => e(),
                "table_id" => &table, "table_replication_info" => e(), "terraform_labels" => labels(word, v, true), "type" => "TABLE", "view" => e(),
                "time_partitioning" => vec![o! {"expiration_ms" => 7_776_000_000i64, "field" => "event_ts", "require_partition_filter" => false, "type" => "DAY"}]}
        };
        res.push(res_of(infra("google_bigquery_table", "events", format!("{key}-{k}")), act(rng), &f,
            &["creation_time", "etag", "id", "last_modified_time", "location", "num_bytes", "num_long_term_bytes", "num_rows", "self_link", "type"], &["etag", "last_modified_time"]));
    }
    for (k, kind) in ["push", "pull"].into_iter().enumerate() {
        let sub = format!("{word}-{key}-{kind}");
        let f = |v: u32| o! {
            "ack_deadline_seconds" => 20 + 10 * v, "bigquery_config" => e(), "cloud_storage_config" => e(),
            "dead_letter_policy" => vec![o! {"dead_letter_topic" => format!("projects/{PROJECT}/topics/{word}-dlq"), "max_delivery_attempts" => 10}],
            "effective_labels" => labels(word, v, true), "enable_exactly_once_delivery" => false, "enable_message_ordering" => false,
            "expiration_policy" => vec![o! {"ttl" => ""}], "filter" => "", "id" => format!("projects/{PROJECT}/subscriptions/{sub}"), "labels" => labels(word, v, false),
            "message_retention_duration" => "604800s", "name" => &sub, "project" => PROJECT, "push_config" => e(), "retain_acked_messages" => false,
            "retry_policy" => vec![o! {"maximum_backoff" => "600s", "minimum_backoff" => "10s"}], "terraform_labels" => labels(word, v, true), "timeouts" => N,
            "topic" => format!("projects/{PROJECT}/topics/{word}-events"),
        };
        res.push(res_of(infra("google_pubsub_subscription", "sub", format!("{key}-{k}")), act(rng), &f, &["id"], &[]));
    }
}

fn column_type(column: &str) -> &'static str {
    match column.rsplit('_').next() {
        Some("ts") => "TIMESTAMP",
        Some("ms" | "micros" | "quantity" | "code") => "INTEGER",
        Some("score") => "FLOAT",
        Some("consent") => "BOOLEAN",
        Some("payload") => "JSON",
        _ => "STRING",
    }
}

/// A storage bucket `google_storage_bucket.NAME["KEY"]` in the root module.
#[rustfmt::skip]
fn bucket(rng: &mut Rng, name: &'static str, key: &str, word: &str, action: Action) -> Res {
    let bucket = format!("{PROJECT}-{key}-{word}-{name}");
    let soft_delete = time(rng);
    let f = |v: u32| {
        let rule = |age: u32, action: &str, class: &str| o! {"action" => vec![o! {"storage_class" => class, "type" => action}],
            "condition" => vec![o! {"age" => age, "created_before" => "", "custom_time_before" => "", "days_since_custom_time" => 0, "days_since_noncurrent_time" => 0,
                "matches_prefix" => strs(&["logs/", "tmp/"]), "matches_storage_class" => e(), "matches_suffix" => e(), "no_age" => false, "noncurrent_time_before" => "",
                "num_newer_versions" => 0, "send_age_if_zero" => false, "send_days_since_custom_time_if_zero" => false, "send_days_since_noncurrent_time_if_zero" => false,
                "send_num_newer_versions_if_zero" => false, "with_state" => "ANY"}]};
        o! {"autoclass" => e(), "cors" => e(), "custom_placement_config" => e(), "default_event_based_hold" => false, "effective_labels" => labels(word, v, true),
            "enable_object_retention" => false, "encryption" => e(), "force_destroy" => false, "hierarchical_namespace" => vec![o! {"enabled" => false}], "id" => &bucket,
            "ip_filter" => e(), "labels" => labels(word, v, false), "location" => "EUROPE-WEST1", "logging" => e(), "name" => &bucket, "project" => PROJECT,
            "lifecycle_rule" => vec![rule(30 + v, "SetStorageClass", "NEARLINE"), rule(365, "Delete", "")],
            "project_number" => PROJECT_NUMBER, "public_access_prevention" => "enforced", "requester_pays" => false, "retention_policy" => e(), "rpo" => N,
            "self_link" => format!("https://www.googleapis.com/storage/v1/b/{bucket}"), "storage_class" => "STANDARD", "terraform_labels" => labels(word, v, true),
            "soft_delete_policy" => vec![o! {"effective_time" => &soft_delete, "retention_duration_seconds" => 604800}], "timeouts" => N,
            "uniform_bucket_level_access" => true, "url" => format!("gs://{bucket}"), "versioning" => vec![o! {"enabled" => true}], "website" => e()}
    };
    let at = (Place::Root, None, "google_storage_bucket", name, Key::Str(key.into()));
    res_of(at, action, &f, &["id", "project_number", "self_link", "soft_delete_policy", "url"], &[])
}

// ---------------------------------------------------------------------------------------------
// Sections.

#[rustfmt::skip]
fn scheduler() -> Res {
    let f = |_| o! {"account_id" => "scheduler", "create_ignore_already_exists" => N, "description" => "Runs batch jobs on a schedule",
        "disabled" => false, "display_name" => "Cloud Scheduler", "email" => SCHEDULER_SA, "id" => format!("projects/{PROJECT}/serviceAccounts/{SCHEDULER_SA}"),
        "member" => format!("serviceAccount:{SCHEDULER_SA}"), "name" => format!("projects/{PROJECT}/serviceAccounts/{SCHEDULER_SA}"),
        "project" => PROJECT, "timeouts" => N, "unique_id" => "108836104716299013652"};
    res_of((Place::Root, None, "google_service_account", "scheduler", Key::None), Action::NoOp, &f, &[], &[])
}

/// Writes `,` before every item but the first; `.0` is true until the first item.
struct Sep(bool);
impl Sep {
    fn put(&mut self, out: &mut Vec<u8>) {
        if !std::mem::replace(&mut self.0, false) {
            out.push(b',');
        }
    }
}

fn write_ident(out: &mut Vec<u8>, r: &Res, module_address: bool) {
    out.extend_from_slice(b"{\"address\":");
    write_str(out, &r.address());
    if let (true, Some(m)) = (module_address, &r.module) {
        out.extend_from_slice(b",\"module_address\":");
        write_str(out, m);
    }
    let (ty, name) = (r.ty, r.name);
    let _ = write!(
        out,
        ",\"mode\":\"managed\",\"type\":\"{ty}\",\"name\":\"{name}\""
    );
    match &r.key {
        Key::None => {}
        Key::Int(i) => {
            let _ = write!(out, ",\"index\":{i}");
        }
        Key::Str(s) => {
            out.extend_from_slice(b",\"index\":");
            write_str(out, s);
        }
    }
    let _ = write!(out, ",\"provider_name\":\"{GOOGLE}\"");
}

/// A `planned_values` or `prior_state` resource.
fn write_state(out: &mut Vec<u8>, r: &Res, values: &J) {
    write_ident(out, r, false);
    let version = if r.ty == "google_storage_bucket" {
        3
    } else {
        0
    };
    let _ = write!(out, ",\"schema_version\":{version},\"values\":");
    write_json(out, values);
    out.extend_from_slice(b",\"sensitive_values\":");
    write_json(out, &shape(values));
    out.push(b'}');
}

/// A `resource_changes` entry.
fn write_change(out: &mut Vec<u8>, r: &Res) {
    write_ident(out, r, true);
    out.extend_from_slice(match r.action {
        Action::NoOp => b",\"change\":{\"actions\":[\"no-op\"]" as &[u8],
        Action::Update => b",\"change\":{\"actions\":[\"update\"]",
        Action::Create => b",\"change\":{\"actions\":[\"create\"]",
        Action::Replace => b",\"change\":{\"actions\":[\"delete\",\"create\"]",
    });
    for (field, v) in [("before", &r.before), ("after", &r.after)] {
        let _ = write!(out, ",\"{field}\":");
        write_json(out, v.as_ref().unwrap_or(&N));
    }
    out.extend_from_slice(b",\"after_unknown\":");
    match &r.after {
        Some(after) if r.action != Action::NoOp => {
            let mut unknown = shape(after);
            r.unknown
                .iter()
                .for_each(|p| at_path(&mut unknown, p, false));
            write_json(out, &unknown);
        }
        _ => out.extend_from_slice(b"{}"),
    }
    for (field, v) in [
        ("before_sensitive", &r.before),
        ("after_sensitive", &r.after),
    ] {
        let _ = write!(out, ",\"{field}\":");
        match v {
            Some(v) => write_json(out, &shape(v)),
            None => out.extend_from_slice(b"false"),
        }
    }
    let member_replace = r.action == Action::Replace && r.ty.ends_with("_iam_member");
    if member_replace {
        out.extend_from_slice(b",\"replace_paths\":[[\"member\"]]");
    }
    out.push(b'}');
    if r.action == Action::Replace {
        let reason = if member_replace {
            "replace_because_cannot_update"
        } else {
            "replace_by_triggers"
        };
        let _ = write!(out, ",\"action_reason\":\"{reason}\"");
    }
    out.push(b'}');
}

fn side(r: &Res, prior: bool) -> Option<&J> {
    [&r.after, &r.before][prior as usize].as_ref()
}

/// Writes the entries of `res` on one side into a `child_modules` item, opened at the first
/// entry (`inner.0` stays true while it is not); [`close_module`] ends it.
fn write_module<'a>(
    out: &mut Vec<u8>,
    modules: &mut Sep,
    inner: &mut Sep,
    res: impl Iterator<Item = &'a Res>,
    prior: bool,
) {
    for r in res {
        if let Some(v) = side(r, prior) {
            if inner.0 {
                modules.put(out);
                out.extend_from_slice(b"{\"resources\":[");
            }
            inner.put(out);
            write_state(out, r, v);
        }
    }
}

fn close_module(out: &mut Vec<u8>, inner: &Sep, address: &str) {
    if !inner.0 {
        out.extend_from_slice(b"],\"address\":");
        write_str(out, address);
        out.push(b'}');
    }
}

/// `planned_values` (or, with `prior`, `prior_state.values`) of units `0..n` and `pads` pads.
fn write_side(out: &mut Vec<u8>, shape: Shape, seed: u64, n: usize, pads: usize, prior: bool) {
    let in_place = |place| move |r: &&Res| r.place == place;
    out.extend_from_slice(b"{\"root_module\":{\"resources\":[");
    let mut sep = Sep(true);
    let scheduler = scheduler();
    sep.put(out);
    write_state(out, &scheduler, side(&scheduler, prior).unwrap());
    for i in 0..n {
        let u = unit(shape, seed, i);
        for r in u.res.iter().filter(in_place(Place::Root)) {
            if let Some(v) = side(r, prior) {
                sep.put(out);
                write_state(out, r, v);
            }
        }
    }
    for k in 0..pads {
        let p = pad(seed, k);
        sep.put(out);
        write_state(out, &p, side(&p, prior).unwrap());
    }
    out.extend_from_slice(b"],\"child_modules\":[");
    let mut modules = Sep(true);
    for i in 0..n {
        let u = unit(shape, seed, i);
        let mut inner = Sep(true);
        let svc = u.res.iter().filter(in_place(Place::Svc));
        write_module(out, &mut modules, &mut inner, svc, prior);
        close_module(out, &inner, &format!("module.svc[\"{}\"]", u.key));
    }
    let mut inner = Sep(true);
    for i in 0..n {
        let u = unit(shape, seed, i);
        let infra = u.res.iter().filter(in_place(Place::Infra));
        write_module(out, &mut modules, &mut inner, infra, prior);
    }
    close_module(out, &inner, "module.infra[0]");
    out.extend_from_slice(b"]}}");
}

/// About the bytes unit `i` adds to a plan (separators and module wrappers included).
fn unit_bytes(shape: Shape, seed: u64, i: usize, out: &mut Vec<u8>) {
    let u = unit(shape, seed, i);
    write_json(out, &u.vars);
    for prior in [false, true] {
        for r in &u.res {
            if let Some(v) = side(r, prior) {
                write_state(out, r, v);
                out.push(b',');
            }
        }
        close_module(out, &Sep(false), &format!("module.svc[\"{}\"]", u.key));
    }
    for r in &u.res {
        write_change(out, r);
        out.push(b',');
    }
}

/// Padding resource `k`: an unchanged archive bucket.
fn pad(seed: u64, k: usize) -> Res {
    let mut rng = Rng::new(seed, (1 << 40) + k as u64);
    bucket(
        &mut rng,
        "archive",
        &format!("p{k}"),
        WORDS[k % WORDS.len()],
        Action::NoOp,
    )
}

fn write_plan(shape: Shape, seed: u64, n: usize, pads: usize, out: &mut Vec<u8>) -> Expected {
    out.extend_from_slice(b"{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.8\"");
    out.extend_from_slice(b",\"variables\":{\"services\":{\"value\":{");
    let mut expected = Expected {
        workloads: 0,
        services: 0,
        public_services: 0,
        editor_accounts: 0,
    };
    for i in 0..n {
        let u = unit(shape, seed, i);
        if i > 0 {
            out.push(b',');
        }
        write_str(out, &u.key);
        out.push(b':');
        write_json(out, &u.vars);
        expected.workloads += u.workloads;
        expected.services += 1;
        expected.public_services += u.public as usize;
        expected.editor_accounts += u.editor as usize;
    }
    out.extend_from_slice(b"}}},\"planned_values\":");
    write_side(out, shape, seed, n, pads, false);
    out.extend_from_slice(b",\"resource_changes\":[");
    write_change(out, &scheduler());
    for i in 0..n {
        for r in &unit(shape, seed, i).res {
            out.push(b',');
            write_change(out, r);
        }
    }
    for k in 0..pads {
        out.push(b',');
        write_change(out, &pad(seed, k));
    }
    out.extend_from_slice(b"],\"prior_state\":{\"format_version\":\"1.0\",\"terraform_version\":\"1.9.8\",\"values\":");
    write_side(out, shape, seed, n, pads, true);
    out.extend_from_slice(b"},\"configuration\":");
    write_json(out, &configuration(shape));
    out.extend_from_slice(b",\"timestamp\":\"2025-03-14T10:21:07Z\",\"applyable\":true");
    out.extend_from_slice(b",\"complete\":true,\"errored\":false}");
    expected
}

/// A configuration resource block.
#[rustfmt::skip]
fn conf(ty: &str, name: &str, mode: &str, exprs: J, extra: Vec<(&str, J)>) -> J {
    let mut v = vec![("address", J::from(format!("{}{ty}.{name}", if mode == "data" { "data." } else { "" }))), ("mode", mode.into()), ("type", ty.into()),
        ("name", name.into()), ("provider_config_key", "google".into()), ("expressions", exprs), ("schema_version", 0.into())];
    v.extend(extra);
    J::O(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[rustfmt::skip]
fn configuration(shape: Shape) -> J {
    let svc_ref = |attr: &str| refs(&[&format!("google_cloud_run_v2_service.this.{attr}"), "google_cloud_run_v2_service.this"]);
    let job_ref = |attr: &str| refs(&[&format!("google_cloud_run_v2_job.batch[0].{attr}"), "google_cloud_run_v2_job.batch[0]", "google_cloud_run_v2_job.batch"]);
    let count = |r: &[&str]| vec![("count_expression", refs(r))];
    let for_each = |r: &str| vec![("for_each_expression", refs(&[r]))];
    let invoker = || o! {"location" => svc_ref("location"), "name" => svc_ref("name"), "project" => svc_ref("project"), "role" => cv("roles/run.invoker")};
    let containers = |image: J| vec![o! {"env" => vec![o! {"name" => cv("LOG_LEVEL"), "value" => cv("info")}], "image" => image, "name" => cv("app")}];
    let mut svc_resources = vec![
        conf("google_service_account", "runtime", "managed", o! {"account_id" => refs(&["var.name"]), "description" => refs(&["var.name"]), "display_name" => refs(&["var.name"])}, vec![]),
        conf("google_cloud_run_v2_service", "this", "managed", o! {"deletion_protection" => cv(true), "ingress" => refs(&["var.ingress"]), "location" => cv(REGION), "name" => refs(&["var.name"]),
            "template" => vec![o! {"containers" => containers(refs(&["var.image_tag"])), "service_account" => refs(&["var.default_sa", "google_service_account.runtime.email", "google_service_account.runtime"])}]}, vec![]),
        conf("google_cloud_run_v2_service_iam_member", "invoker", "managed", invoker().merge("member", refs(&["var.callers[0]", "var.callers"])), count(&["var.iam_style"])),
        conf("google_cloud_run_v2_service_iam_binding", "invokers", "managed", invoker().merge("members", refs(&["var.callers"])), count(&["var.iam_style"])),
        conf("google_cloud_run_v2_service_iam_policy", "invokers", "managed", o! {"location" => svc_ref("location"), "name" => svc_ref("name"), "project" => svc_ref("project"),
            "policy_data" => refs(&["data.google_iam_policy.invokers.policy_data", "data.google_iam_policy.invokers"])}, count(&["var.iam_style"])),
        conf("google_iam_policy", "invokers", "data", o! {"binding" => vec![o! {"members" => refs(&["var.callers"]), "role" => cv("roles/run.invoker")}]}, count(&["var.iam_style"])),
        conf("google_cloud_run_service_iam_member", "invoker_v1", "managed", o! {"member" => refs(&["var.callers[0]", "var.callers"]), "role" => cv("roles/run.invoker"),
            "service" => refs(&["google_cloud_run_v2_service.this.id", "google_cloud_run_v2_service.this"])}, count(&["var.iam_style"])),
        conf("google_cloud_run_v2_service_iam_member", "public", "managed", invoker().merge("member", cv("allUsers")), count(&["var.public", "var.iam_style"])),
        conf("google_cloud_run_service_iam_member", "public_v1", "managed", o! {"member" => cv("allUsers"), "role" => cv("roles/run.invoker"),
            "service" => refs(&["google_cloud_run_v2_service.this.id", "google_cloud_run_v2_service.this"])}, count(&["var.public", "var.iam_style"])),
        conf("google_project_iam_member", "logs", "managed", o! {"member" => refs(&["google_service_account.runtime.member", "google_service_account.runtime"]),
            "project" => cv(PROJECT), "role" => cv("roles/logging.logWriter")}, vec![]),
        conf("google_cloud_run_v2_job", "batch", "managed", o! {"deletion_protection" => cv(true), "location" => cv(REGION), "name" => refs(&["var.name"]),
            "template" => vec![o! {"template" => vec![o! {"containers" => containers(refs(&["var.image_tag"])), "max_retries" => cv(3),
                "service_account" => refs(&["google_service_account.runtime.email", "google_service_account.runtime"])}]}]}, count(&["var.with_job"])),
        conf("google_cloud_run_v2_job_iam_member", "scheduler", "managed", o! {"location" => job_ref("location"), "member" => cv(format!("serviceAccount:{SCHEDULER_SA}")),
            "name" => job_ref("name"), "project" => job_ref("project"), "role" => cv("roles/run.invoker")}, count(&["var.with_job"])),
    ];
    let mut svc_vars = vec!["callers", "default_sa", "iam_style", "image_tag", "ingress", "name", "public", "with_job"];
    if shape == Shape::IamDense {
        svc_resources.push(conf("google_project_iam_member", "editor", "managed", o! {"member" => refs(&["google_service_account.runtime.member", "google_service_account.runtime"]),
            "project" => cv(PROJECT), "role" => cv("roles/editor")}, count(&["var.editor"])));
        svc_vars.push("editor");
    }
    let each = |v: &str| refs(&[&format!("each.value.{v}"), "each.value"]);
    let infra_resources = vec![
        conf("google_bigquery_table", "events", "managed", o! {"dataset_id" => cv("analytics"), "deletion_protection" => cv(true), "schema" => refs(&["each.value.schema", "each.value"]),
            "table_id" => refs(&["each.key"]), "time_partitioning" => vec![o! {"field" => cv("event_ts"), "type" => cv("DAY")}]}, for_each("var.tables")),
        conf("google_pubsub_subscription", "sub", "managed", o! {"ack_deadline_seconds" => cv(20), "name" => refs(&["each.key"]), "topic" => each("topic")}, for_each("var.subscriptions")),
    ];
    let root_resources = vec![
        conf("google_service_account", "scheduler", "managed", o! {"account_id" => cv("scheduler"), "display_name" => cv("Cloud Scheduler")}, vec![]),
        conf("google_compute_instance", "worker", "managed", o! {"boot_disk" => vec![o! {"initialize_params" => vec![o! {"image" => cv("debian-cloud/debian-12")}]}],
            "machine_type" => each("machine_type"), "name" => refs(&["each.key"]), "network_interface" => vec![o! {"subnetwork" => refs(&["google_compute_subnetwork.main_eu.id"])}], "zone" => each("zone")}, for_each("local.workers")),
        conf("google_storage_bucket", "data", "managed", o! {"lifecycle_rule" => vec![o! {"action" => vec![o! {"type" => cv("Delete")}], "condition" => vec![o! {"age" => cv(365)}]}],
            "location" => cv("EUROPE-WEST1"), "name" => refs(&["each.key"]), "uniform_bucket_level_access" => cv(true)}, for_each("var.services")),
        conf("google_storage_bucket", "archive", "managed", o! {"location" => cv("EUROPE-WEST1"), "name" => refs(&["each.key"]), "storage_class" => cv("ARCHIVE"),
            "uniform_bucket_level_access" => cv(true)}, for_each("local.archives")),
        conf("google_container_node_pool", "pool", "managed", o! {"cluster" => cv("main"), "name" => refs(&["each.key"]), "node_config" => vec![o! {"machine_type" => cv("e2-standard-4")}]}, for_each("var.services")),
        conf("google_compute_firewall", "fw", "managed", o! {"allow" => vec![o! {"ports" => each("ports"), "protocol" => cv("tcp")}], "name" => refs(&["each.key"]), "network" => cv("main"),
            "source_ranges" => each("source_ranges")}, for_each("local.firewalls")),
    ];
    let module_vars = |names: &[&str]| obj(names.iter().map(|n| (*n, o! {"description" => format!("The {} setting.", n.replace('_', " "))})).collect());
    o! {
        "provider_config" => o! {"google" => o! {"expressions" => o! {"project" => cv(PROJECT), "region" => cv(REGION)}, "full_name" => GOOGLE, "name" => "google", "version_constraint" => "~> 7.0"}},
        "root_module" => o! {
            "resources" => root_resources,
            "module_calls" => o! {
                "svc" => obj(vec![("source", J::from("./modules/cloud-run-service")),
                    ("expressions", obj(svc_vars.iter().map(|v| (*v, each(v))).collect())),
                    ("for_each_expression", refs(&["var.services"])),
                    ("module", o! {"resources" => svc_resources, "variables" => module_vars(&svc_vars)})]),
                "infra" => obj(vec![("source", J::from("./modules/data-platform")),
                    ("expressions", o! {"subscriptions" => refs(&["local.subscriptions"]), "tables" => refs(&["local.tables"])}),
                    ("count_expression", cv(1)),
                    ("module", o! {"resources" => infra_resources, "variables" => module_vars(&["subscriptions", "tables"])})]),
            },
            "variables" => o! {"services" => o! {"description" => "Cloud Run services, keyed by unit."}},
        },
    }
}

impl J {
    /// Adds one more key to an object (kept sorted).
    fn merge(mut self, key: &str, value: J) -> J {
        if let J::O(m) = &mut self {
            let i = m.partition_point(|(k, _)| k.as_str() < key);
            m.insert(i, (key.to_string(), value));
        }
        self
    }
}
