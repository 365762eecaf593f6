"""python-gitlab's instance calls: `gl.version()` gets a GitLab-shaped version (python-gitlab
answers "unknown" when the route is missing); `/metadata` through `gl.http_get`."""


def test_version_reports_the_gitlab_version_and_triggerds_own_as_the_revision(gl):
    version, revision = gl.version()
    assert version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 17
    assert revision.startswith("triggerd-")


def test_metadata_has_no_kas_and_is_not_enterprise(gl):
    meta = gl.http_get("/metadata")
    assert meta["kas"]["enabled"] is False
    assert meta["enterprise"] is False
