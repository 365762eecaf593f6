use crate::ci::{CiConfig, Limits, When, compile};

fn ok(text: &str) -> CiConfig {
    compile(text, &Limits::default()).unwrap_or_else(|e| panic!("{text}\n=> {e:?}"))
}

fn errors(text: &str) -> Vec<String> {
    match compile(text, &Limits::default()) {
        Ok(_) => panic!("{text}\nshould not compile"),
        Err(e) => e.0,
    }
}

#[test]
fn stages_default_to_gitlabs_and_pre_and_post_are_always_at_the_edges() {
    assert_eq!(ok("a:\n  script: x\n").stages, [".pre", "build", "test", "deploy", ".post"]);
    let config = ok("stages: [.post, one, .pre, two, one]\na:\n  stage: one\n  script: x\n");
    assert_eq!(config.stages, [".pre", "one", "two", ".post"]);
    assert_eq!(config.jobs[0].stage_idx, 1);
}

#[test]
fn a_job_without_a_stage_is_in_test() {
    let config = ok("a:\n  script: x\n");
    assert_eq!((config.jobs[0].stage.as_str(), config.jobs[0].stage_idx), ("test", 2));
}

#[test]
fn scripts_are_a_string_or_nested_lists_of_strings() {
    let config = ok("a:\n  script:\n    - one\n    - [two, [three]]\n  before_script: solo\n");
    assert_eq!(config.jobs[0].script, ["one", "two", "three"]);
    assert_eq!(config.jobs[0].before_script, ["solo"]);
}

#[test]
fn job_settings_override_default_which_overrides_the_top_level_keywords() {
    let config = ok(concat!(
        "image: top\nbefore_script: [top]\n",
        "default:\n  after_script: [default]\n  tags: [docker]\n  timeout: 1h 30m\n  image: { name: def }\n",
        "a:\n  script: x\n",
        "b:\n  script: x\n  image: own\n  before_script: [own]\n  tags: []\n  timeout: 10 minutes\n",
    ));
    let (a, b) = (&config.jobs[0], &config.jobs[1]);
    assert_eq!((a.image.as_deref(), a.before_script.as_slice()), (Some("def"), &["top".to_string()][..]));
    assert_eq!(
        (a.after_script.as_slice(), a.tags.as_slice()),
        (&["default".to_string()][..], &["docker".to_string()][..])
    );
    assert_eq!(a.timeout_secs, Some(5400));
    assert_eq!((b.image.as_deref(), b.before_script.as_slice()), (Some("own"), &["own".to_string()][..]));
    assert!(b.tags.is_empty());
    assert_eq!(b.timeout_secs, Some(600));
}

#[test]
fn variables_accept_strings_numbers_and_the_value_description_form() {
    let config = ok(concat!(
        "variables:\n  A: text\n  B: 12\n  C: 1.5\n  D: { value: deep, description: shown in the UI }\n  E:\n",
        "job:\n  script: x\n  variables: { A: job }\n",
    ));
    let global: Vec<_> = config.variables.iter().collect();
    assert_eq!(global, [("A", "text"), ("B", "12"), ("C", "1.5"), ("D", "deep"), ("E", "")]);
    assert_eq!(config.jobs[0].variables.get("A"), Some("job"));
}

#[test]
fn hidden_jobs_are_not_jobs_and_extends_merges_them_in() {
    let config = ok(concat!(
        ".base:\n  stage: build\n  variables: { A: base, B: base }\n  script: [base]\n",
        ".tagged:\n  extends: .base\n  tags: [t]\n",
        "job:\n  extends: [.tagged]\n  variables: { B: job }\n",
    ));
    assert_eq!(config.jobs.len(), 1);
    let job = &config.jobs[0];
    assert_eq!((job.name.as_str(), job.stage.as_str()), ("job", "build"));
    assert_eq!(job.script, ["base"]);
    assert_eq!(job.tags, ["t"]);
    let vars: Vec<_> = job.variables.iter().collect();
    assert_eq!(vars, [("A", "base"), ("B", "job")]);
}

#[test]
fn yaml_anchors_and_merge_keys_work_as_templates() {
    let config = ok(".t: &t\n  stage: deploy\n  script: [go]\njob:\n  <<: *t\n  when: manual\n");
    assert_eq!((config.jobs[0].stage.as_str(), config.jobs[0].when), ("deploy", When::Manual));
}

#[test]
fn invalid_configurations_get_gitlabs_messages() {
    let table: &[(&str, &str)] = &[
        ("", "Please provide content of .gitlab-ci.yml"),
        ("just a string", "Invalid configuration format"),
        ("- a\n- b\n", "Invalid configuration format"),
        ("# only a comment\n", "Invalid configuration format"),
        ("build:\n  stage: build\n", "jobs:build config should implement a script: or a trigger: keyword"),
        (".hidden:\n  script: x\n", "jobs config should contain at least one visible job"),
        ("variables: {}\n", "jobs config should contain at least one visible job"),
        (
            "build:\n  stage: nope\n  script: x\n",
            "build job: chosen stage nope does not exist; available stages are .pre, build, test, deploy, .post",
        ),
        ("build: text\n", "jobs:build config should be a hash"),
        ("build:\n  script: x\n  colour: red\n", "jobs:build config contains unknown keys: colour"),
        (
            "build:\n  script: { a: b }\n",
            "jobs:build script config should be a string or a nested array of strings up to 10 levels deep",
        ),
        ("stages: build\nbuild:\n  script: x\n", "stages config should be an array of strings"),
        (
            "build:\n  script: x\n  when: sometimes\n",
            "jobs:build when config should be one of: on_success, on_failure, always, manual, never",
        ),
        ("build:\n  script: x\n  when: delayed\n", "jobs:build when delayed is not supported by triggerd"),
        (
            "build:\n  script: x\n  allow_failure: maybe\n",
            "jobs:build allow_failure config should be a boolean value",
        ),
        ("build:\n  script: x\n  tags: docker\n", "jobs:build tags config should be an array of strings"),
        ("build:\n  script: x\n  timeout: soon\n", "jobs:build timeout config should be a duration"),
        (
            "build:\n  script: x\n  timeout: 2 months\n",
            "jobs:build timeout config should not exceed the limit",
        ),
        ("build:\n  script: x\n  image: [a]\n", "jobs:build image config should be a hash or a string"),
        (
            "build:\n  script: x\n  rules: { if: $A }\n",
            "jobs:build:rules config should be an array of hashes",
        ),
        (
            "build:\n  script: x\n  rules: [ { if: '$A ==' } ]\n",
            "jobs:build:rules:rule if invalid expression syntax",
        ),
        (
            "build:\n  script: x\n  rules: [ { iff: $A } ]\n",
            "jobs:build:rules:rule config contains unknown keys: iff",
        ),
        (
            "build:\n  script: x\n  rules: [ { exists: [a] } ]\n",
            "jobs:build:rules:rule exists is not supported by triggerd",
        ),
        ("build:\n  script: x\n  needs: []\n", "jobs:build needs is not supported by triggerd"),
        (
            "build:\n  script: x\n  variables: { A: [1] }\n",
            "jobs:build:variables config should be a hash of key value pairs, value can be a hash",
        ),
        (
            "variables: { A: true }\nbuild:\n  script: x\n",
            "variables config should be a hash of key value pairs, value can be a hash",
        ),
        (
            "workflow:\n  rules: [ { when: manual } ]\nbuild:\n  script: x\n",
            "workflow:rules:rule when config should be one of: always, never",
        ),
        ("default:\n  stage: x\nbuild:\n  script: x\n", "default config contains unknown keys: stage"),
        ("job:\n  extends: .nowhere\n  script: x\n", "job: unknown key in `extends`"),
        (
            ".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n",
            ".a: circular dependency detected in `extends`",
        ),
        ("job:\n  extends: job\n  script: x\n", "job: circular dependency detected in `extends`"),
    ];
    for (text, expected) in table {
        let errs = errors(text);
        assert!(errs.iter().any(|e| e == expected), "{text:?}\n expected {expected:?}\n got {errs:?}");
    }
}

#[test]
fn include_is_rejected_with_a_clear_error() {
    let errs = errors("include: other.yml\nbuild:\n  script: x\n");
    assert!(errs[0].starts_with("include config is not supported by triggerd"), "{errs:?}");
}

#[test]
fn every_error_of_a_document_is_reported() {
    let errs =
        errors("a:\n  stage: build\nb:\n  script: x\n  when: later\nc:\n  script: x\n  stage: nowhere\n");
    assert_eq!(errs.len(), 3, "{errs:?}");
}

#[test]
fn extends_chains_deeper_than_gitlabs_limit_are_rejected() {
    let mut text = String::from(".t0:\n  script: x\n");
    for i in 1..=12 {
        text.push_str(&format!(".t{i}:\n  extends: .t{}\n", i - 1));
    }
    text.push_str("job:\n  extends: .t12\n");
    let errs = errors(&text);
    assert!(errs.iter().any(|e| e.ends_with(": nesting too deep in `extends`")), "{errs:?}");
}

#[test]
fn extends_that_multiply_the_document_are_bounded() {
    let mut text = String::from(".t0:\n  script: [x]\n");
    for i in 1..=10 {
        let parents = vec![format!(".t{}", i - 1); 20].join(", ");
        text.push_str(&format!(".t{i}:\n  extends: [{parents}]\n"));
    }
    text.push_str("job:\n  extends: .t10\n");
    let errs = errors(&text);
    assert!(errs.iter().any(|e| e.starts_with("The parsed YAML is too big")), "{errs:?}");
}

#[test]
fn more_jobs_than_the_limit_are_rejected() {
    let limits = Limits { max_jobs: 3, ..Limits::default() };
    let text: String = (0..4).map(|i| format!("j{i}:\n  script: x\n")).collect();
    let errs = compile(&text, &limits).unwrap_err().0;
    assert_eq!(errs, ["The configuration has too many jobs: 4, the limit is 3"]);
    assert!(compile(&text, &Limits { max_jobs: 4, ..limits }).is_ok());
}

#[test]
fn a_default_script_copied_into_many_jobs_is_bounded() {
    let limits = Limits { max_expanded_bytes: 100_000, ..Limits::default() };
    let mut text = format!("default:\n  before_script: [\"{}\"]\n", "x".repeat(10_000));
    for i in 0..20 {
        text.push_str(&format!("j{i}:\n  script: x\n"));
    }
    let errs = compile(&text, &limits).unwrap_err().0;
    assert!(errs.iter().any(|e| e.starts_with("The parsed YAML is too big")), "{errs:?}");
}

#[test]
fn reserved_top_level_keywords_are_not_jobs() {
    let config = ok("services: [postgres]\ncache: {}\nvariables: {}\nbuild:\n  script: x\n");
    let names: Vec<_> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["build"]);
}

#[test]
fn ignored_job_keywords_are_accepted() {
    ok(
        "build:\n  script: x\n  artifacts: { paths: [a] }\n  retry: 2\n  interruptible: true\n  services: [redis]\n",
    );
}

#[test]
fn a_document_at_the_size_limit_with_many_keys_compiles_quickly() {
    // Quadratic key handling would take minutes here; linear takes well under a second.
    let mut text = String::from("stages:\n");
    for i in 0..20_000 {
        text.push_str(&format!("  - s{i}\n"));
    }
    text.push_str("variables:\n");
    for i in 0..20_000 {
        text.push_str(&format!("  V{i}: x\n"));
    }
    for i in 0..30_000 {
        text.push_str(&format!(".k{i}: 1\n"));
    }
    text.push_str("job:\n  stage: s19999\n  script: x\n");
    assert!(text.len() <= Limits::default().max_bytes, "{}", text.len());
    let started = std::time::Instant::now();
    let config = ok(&text);
    assert_eq!((config.stages.len(), config.variables.len()), (20_002, 20_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_trigger_job_names_its_downstream_project_in_the_short_or_the_long_form() {
    let short = ok("bridge:\n  trigger: group/downstream\n");
    let spec = short.jobs[0].trigger.clone().unwrap();
    assert_eq!(spec.project, "group/downstream");
    assert_eq!((spec.branch, spec.depend), (None, false));
    assert!(spec.forward_yaml_variables && !spec.forward_pipeline_variables);
    let long = ok(concat!(
        "default:\n  before_script: [setup]\n  tags: [docker]\n",
        "bridge:\n  stage: deploy\n  trigger:\n    project: group/downstream\n    branch: stable\n",
        "    strategy: depend\n    forward:\n      yaml_variables: false\n      pipeline_variables: true\n",
    ));
    let job = &long.jobs[0];
    let spec = job.trigger.clone().unwrap();
    assert_eq!((spec.branch.as_deref(), spec.depend), (Some("stable"), true));
    assert!(!spec.forward_yaml_variables && spec.forward_pipeline_variables);
    assert!(job.before_script.is_empty() && job.tags.is_empty(), "a bridge takes no runner defaults");
}

#[test]
fn trigger_jobs_refuse_scripts_child_pipelines_and_unknown_keys() {
    let table: &[(&str, &str)] = &[
        ("b:\n  trigger: g/p\n  script: x\n", "jobs:b config contains unknown keys: script"),
        ("b:\n  trigger: g/p\n  tags: [a]\n", "jobs:b config contains unknown keys: tags"),
        (
            "b:\n  trigger:\n    include: child.yml\n",
            "jobs:b trigger include (child pipelines) is not supported by triggerd",
        ),
        (
            "b:\n  trigger:\n    project: g/p\n    colour: red\n",
            "jobs:b:trigger config contains unknown keys: colour",
        ),
        (
            "b:\n  trigger:\n    project: g/p\n    strategy: wait\n",
            "jobs:b:trigger strategy should be depend",
        ),
        (
            "b:\n  trigger:\n    project: g/p\n    forward: { secrets: true }\n",
            "jobs:b:trigger:forward config contains unknown keys: secrets",
        ),
        (
            "b:\n  trigger:\n    project: g/p\n    forward: { yaml_variables: 1 }\n",
            "jobs:b:trigger:forward yaml_variables config should be a boolean value",
        ),
        ("b:\n  trigger:\n    branch: main\n", "jobs:b:trigger config is missing the project"),
        ("b:\n  trigger: [g/p]\n", "jobs:b trigger config should be a string or a hash"),
        ("b:\n  trigger:\n    project: [g/p]\n", "jobs:b:trigger project config should be a string"),
    ];
    for (text, expected) in table {
        let errs = errors(text);
        assert!(errs.iter().any(|e| e == expected), "{text:?}\n expected {expected:?}\n got {errs:?}");
    }
}
