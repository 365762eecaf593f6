use super::vars;
use crate::ci::{Limits, PipelinePlan, PlanError, When, compile, evaluate_rules, plan};

fn plan_for(text: &str, pairs: &[(&str, &str)]) -> Result<PipelinePlan, PlanError> {
    let config = compile(text, &Limits::default()).unwrap_or_else(|e| panic!("{text}\n=> {e:?}"));
    plan(&config, &vars(pairs))
}

fn names(plan: &PipelinePlan) -> Vec<&str> {
    plan.jobs.iter().map(|j| j.name.as_str()).collect()
}

const TRIGGER: &[(&str, &str)] = &[("CI_PIPELINE_SOURCE", "trigger")];

#[test]
fn jobs_are_planned_in_stage_order_with_only_the_stages_in_use() {
    let plan = plan_for("deploy:\n  stage: deploy\n  script: d\nbuild:\n  stage: build\n  script: b\nlint:\n  stage: build\n  script: l\n", TRIGGER).unwrap();
    assert_eq!(names(&plan), ["build", "lint", "deploy"]);
    assert_eq!(plan.stages, ["build", "deploy"]);
    assert_eq!(plan.jobs[2].stage_idx, 3);
}

#[test]
fn the_first_matching_rule_decides_when_and_allow_failure() {
    let text = concat!(
        "job:\n  script: x\n  rules:\n",
        "    - if: $CI_PIPELINE_SOURCE == \"push\"\n      when: never\n",
        "    - if: $CI_PIPELINE_SOURCE == \"trigger\"\n      when: manual\n      allow_failure: true\n",
        "    - when: always\n",
    );
    let job = &plan_for(text, TRIGGER).unwrap().jobs[0];
    assert_eq!((job.when, job.allow_failure), (When::Manual, true));
    let job = &plan_for(text, &[("CI_PIPELINE_SOURCE", "web")]).unwrap().jobs[0];
    assert_eq!((job.when, job.allow_failure), (When::Always, false));
    assert_eq!(plan_for(text, &[("CI_PIPELINE_SOURCE", "push")]), Err(PlanError::NoJobs));
}

#[test]
fn a_job_whose_rules_match_nothing_is_left_out() {
    let text = "a:\n  script: x\n  rules: [ { if: $NOPE } ]\nb:\n  script: x\n";
    assert_eq!(names(&plan_for(text, TRIGGER).unwrap()), ["b"]);
}

#[test]
fn when_rules_leave_no_job_there_is_no_pipeline() {
    let err = plan_for("a:\n  script: x\n  rules: [ { if: $NOPE } ]\n", TRIGGER).unwrap_err();
    assert_eq!(err, PlanError::NoJobs);
    assert_eq!(
        err.to_string(),
        "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."
    );
    assert_eq!(plan_for("a:\n  script: x\n  when: never\n", TRIGGER), Err(PlanError::NoJobs));
}

#[test]
fn workflow_rules_filter_the_whole_pipeline() {
    let text = concat!(
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n      when: never\n",
        "    - if: $CI_PIPELINE_SOURCE\n      variables: { DEPLOY: \"yes\" }\n",
        "job:\n  script: x\n  rules: [ { if: $DEPLOY == \"yes\" } ]\n",
    );
    let plan = plan_for(text, TRIGGER).unwrap();
    assert_eq!(plan.variables.get("DEPLOY"), Some("yes"));
    assert_eq!(plan.jobs[0].variables.get("DEPLOY"), Some("yes"));
    let err = plan_for(text, &[("CI_PIPELINE_SOURCE", "push")]).unwrap_err();
    assert_eq!(err.to_string(), "Pipeline filtered out by workflow rules.");
    assert_eq!(plan_for(text, &[]), Err(PlanError::FilteredByWorkflowRules));
}

#[test]
fn manual_jobs_may_fail_by_default_but_not_when_a_rule_makes_them_manual() {
    let plan = plan_for(
        "a:\n  script: x\n  when: manual\nb:\n  script: x\n  rules: [ { when: manual } ]\n",
        TRIGGER,
    )
    .unwrap();
    assert_eq!((plan.jobs[0].when, plan.jobs[0].allow_failure), (When::Manual, true));
    assert_eq!((plan.jobs[1].when, plan.jobs[1].allow_failure), (When::Manual, false));
}

#[test]
fn job_variables_win_over_global_ones_and_rule_variables_over_both() {
    let text = concat!(
        "variables: { A: global, B: global, C: global }\n",
        "job:\n  script: x\n  variables: { B: job, C: job }\n  rules: [ { variables: { C: rule } } ]\n",
    );
    let job = &plan_for(text, TRIGGER).unwrap().jobs[0];
    let vars: Vec<_> = job.variables.iter().collect();
    assert_eq!(vars, [("A", "global"), ("B", "job"), ("C", "rule")]);
}

#[test]
fn rules_see_yaml_variables_and_pipeline_variables_win_over_them() {
    let text = "variables: { MODE: yaml }\na:\n  script: x\n  rules: [ { if: $MODE == \"yaml\" } ]\nb:\n  script: x\n  rules: [ { if: $MODE == \"api\" } ]\n";
    assert_eq!(names(&plan_for(text, &[]).unwrap()), ["a"]);
    assert_eq!(names(&plan_for(text, &[("MODE", "api")]).unwrap()), ["b"]);
}

#[test]
fn rules_evaluation_has_gitlabs_three_fallbacks() {
    let config =
        compile("a:\n  script: x\n  rules: [ { if: $A, allow_failure: true } ]\n", &Limits::default())
            .unwrap();
    let rules = config.jobs[0].rules.as_deref();
    // No rules: the job's own when.
    assert_eq!(evaluate_rules(None, When::OnFailure, &vars(&[])).when, When::OnFailure);
    // A match without when: the job's when, and the rule's allow_failure.
    let outcome = evaluate_rules(rules, When::Always, &vars(&[("A", "1")]));
    assert_eq!((outcome.when, outcome.allow_failure, outcome.passes()), (When::Always, Some(true), true));
    // No match: never.
    let outcome = evaluate_rules(rules, When::Always, &vars(&[]));
    assert_eq!((outcome.when, outcome.passes()), (When::Never, false));
}

#[test]
fn a_planned_job_carries_its_scripts_image_tags_and_timeout() {
    let text = concat!(
        "default:\n  before_script: [setup]\n  after_script: [cleanup]\n",
        "job:\n  script: [run]\n  image: { name: \"alpine:3\" }\n  tags: [linux]\n  timeout: 1h\n",
    );
    let job = &plan_for(text, TRIGGER).unwrap().jobs[0];
    assert_eq!(
        (job.script.as_slice(), job.before_script.as_slice()),
        (&["run".to_string()][..], &["setup".to_string()][..])
    );
    assert_eq!(job.after_script, ["cleanup"]);
    assert_eq!((job.image.as_deref(), job.tags.as_slice()), (Some("alpine:3"), &["linux".to_string()][..]));
    assert_eq!(job.timeout_secs, Some(3600));
}

#[test]
fn jobs_only_in_pre_and_post_are_not_a_pipeline() {
    let text = "first:\n  stage: .pre\n  script: x\nlast:\n  stage: .post\n  script: x\n";
    assert_eq!(plan_for(text, TRIGGER), Err(PlanError::NoJobs));
    let plan = plan_for(&format!("{text}main:\n  script: x\n"), TRIGGER).unwrap();
    assert_eq!(plan.stages, [".pre", "test", ".post"]);
}

#[test]
fn a_planned_trigger_job_carries_its_downstream_and_yaml_variables() {
    let text = "variables: { G: g }\nbridge:\n  variables: { J: j }\n  trigger:\n    project: g/p\n    strategy: depend\n";
    let plan = plan_for(text, TRIGGER).unwrap();
    let job = &plan.jobs[0];
    let spec = job.trigger.as_ref().unwrap();
    assert_eq!((spec.project.as_str(), spec.depend), ("g/p", true));
    assert!(job.script.is_empty());
    assert_eq!(job.variables.get("G"), Some("g"));
    assert_eq!(job.variables.get("J"), Some("j"));
}
