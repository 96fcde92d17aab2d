use super::{Delta, Direction, Rule, Severity, compare_invokers};
use crate::graph::Principal;
use crate::iam::Level;
use crate::iam::MemberKind;
use crate::inventory::WorkloadKind;

pub static RULE: Rule = Rule {
    id: "public-job-or-worker-pool",
    severity: Severity::Critical,
    summary: "Anyone can run a job or redeploy a worker pool (allUsers / allAuthenticatedUsers)",
    headline: (
        "job or worker pool becomes usable by anyone",
        "jobs or worker pools become usable by anyone",
    ),
    doc: r#"# public-job-or-worker-pool

## What it detects
`allUsers` or `allAuthenticatedUsers` gains (or loses) a role on a Cloud Run job that carries
`run.jobs.run` (for example `roles/run.invoker`, `roles/run.jobsExecutor`), or a role on a
worker pool that lets it redeploy the pool (`roles/run.developer`, `roles/run.admin`, …).

## Why it matters
Running a job executes code with the job's service account; with `run.jobs.runWithOverrides`
the caller also picks the arguments and environment. Anyone on the internet could start
executions, run up costs and act with the job's identity. A worker pool that anyone can redeploy
runs anyone's code.

## Example
```hcl
resource "google_cloud_run_v2_job_iam_member" "anyone" {
  name   = google_cloud_run_v2_job.export.name
  role   = "roles/run.invoker"
  member = "allUsers"
}
```

## Use instead
Grant `roles/run.jobsExecutor` to the scheduler or workflow service account that starts the job.

A principal unknown at plan time in the job's or worker pool's own IAM may be `allUsers`: it is
reported too, `high`, so that the default gate stops until a reviewer has looked. (Project,
folder and organization policies cannot hold `allUsers`.)

## Known limits
Worker-pool access is judged from the predefined-role table and custom-role permissions
(`run.workerpools.update`).
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    if d.workload.kind.serves_requests() {
        return Vec::new();
    }
    let what = if d.workload.kind == WorkloadKind::Job {
        "run this job"
    } else {
        "redeploy this worker pool"
    };
    let mut findings = compare_invokers(
        d,
        |i| {
            matches!(
                i.principal.kind(),
                MemberKind::AllUsers | MemberKind::AllAuthenticatedUsers
            )
        },
        |item, dir| match dir {
            Direction::Worsened => format!("anyone can now {what}: {}", item.label),
            Direction::Improved => format!("anyone can no longer {what}: {}", item.label),
            Direction::Unchanged => format!("anyone can still {what}: {}", item.label),
        },
    );
    let unknown_on_workload = |i: &crate::posture::Invoker| {
        i.principal == Principal::Unknown && i.grants.iter().any(|g| g.level == Level::Resource)
    };
    findings.extend(
        compare_invokers(d, unknown_on_workload, |item, dir| match dir {
            Direction::Worsened => format!(
                "a principal unknown at plan time, possibly allUsers, can now {what}: {}",
                item.label
            ),
            Direction::Improved => format!(
                "a principal unknown at plan time, possibly allUsers, can no longer {what}: {}",
                item.label
            ),
            Direction::Unchanged => format!(
                "a principal unknown at plan time, possibly allUsers, can still {what}: {}",
                item.label
            ),
        })
        .into_iter()
        .map(|mut f| {
            f.severity = Some(Severity::High);
            f
        }),
    );
    findings
}
