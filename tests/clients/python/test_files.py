"""python-gitlab against the Repository Files and Commits APIs."""

import base64

import gitlab
import pytest

CI = "stages: [test]\njob:\n  script: echo hello\n"


def test_create_get_decode_save_and_delete_a_file(project):
    f = project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": CI, "commit_message": "add CI"}
    )
    assert f.file_path == ".gitlab-ci.yml"
    assert f.branch == "main"

    got = project.files.get(file_path=".gitlab-ci.yml", ref="main")
    assert got.decode() == CI.encode()
    assert got.file_name == ".gitlab-ci.yml"
    assert got.size == len(CI)
    assert got.encoding == "base64"
    first_commit = got.commit_id
    assert got.last_commit_id == first_commit

    got.content = CI + "# more\n"
    got.save(branch="main", commit_message="edit CI")
    again = project.files.get(file_path=".gitlab-ci.yml", ref="main")
    assert again.decode() == (CI + "# more\n").encode()
    assert again.commit_id != first_commit
    # The first commit still holds the first content.
    assert project.files.get(file_path=".gitlab-ci.yml", ref=first_commit).decode() == CI.encode()

    again.delete(branch="main", commit_message="drop CI")
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.files.get(file_path=".gitlab-ci.yml", ref="main")
    assert e.value.response_code == 404
    assert e.value.error_message == "404 File Not Found"


def test_update_raw_head_and_delete_through_the_manager(project):
    path = "deploy/config.json"
    project.files.create({"file_path": path, "branch": "main", "content": "{}", "commit_message": "add"})
    project.files.update(path, {"branch": "main", "content": '{"a": 1}', "commit_message": "update"})
    assert project.files.raw(file_path=path, ref="main") == b'{"a": 1}'
    assert project.files.raw(file_path=path) == b'{"a": 1}'
    headers = project.files.head(path, ref="main")
    assert headers["X-Gitlab-File-Path"] == path
    assert headers["X-Gitlab-Size"] == "8"
    project.files.delete(file_path=path, branch="main", commit_message="remove")
    with pytest.raises(gitlab.GitlabGetError):
        project.files.raw(file_path=path, ref="main")


def test_binary_content_travels_as_base64(project):
    data = bytes(range(256))
    project.files.create(
        {
            "file_path": "blob.bin",
            "branch": "main",
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
            "commit_message": "binary",
        }
    )
    assert project.files.get(file_path="blob.bin", ref="main").decode() == data
    assert project.files.raw(file_path="blob.bin", ref="main") == data


def test_gitlabs_errors_reach_the_client(project):
    project.files.create({"file_path": "a.txt", "branch": "main", "content": "A", "commit_message": "add"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.files.create({"file_path": "a.txt", "branch": "main", "content": "B", "commit_message": "again"})
    assert e.value.response_code == 400
    assert e.value.error_message == "A file with this name already exists"
    with pytest.raises(gitlab.GitlabUpdateError) as e:
        project.files.update("nope.txt", {"branch": "main", "content": "x", "commit_message": "m"})
    assert e.value.error_message == "A file with this name doesn't exist"
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.files.get(file_path="a.txt", ref="no-such-ref")
    assert e.value.error_message == "404 Commit Not Found"


def test_commits_list_and_get_follow_the_branch(project):
    project.files.create({"file_path": "f.txt", "branch": "main", "content": "1", "commit_message": "one"})
    project.files.update("f.txt", {"branch": "main", "content": "2", "commit_message": "two\n\nbody"})
    commits = project.commits.list(ref_name="main", get_all=True)
    assert [c.title for c in commits[:2]] == ["two", "one"]
    assert commits[0].parent_ids == [commits[1].id]
    head = project.commits.get(commits[0].id)
    assert head.message == "two\n\nbody"
    assert head.short_id == commits[0].id[:8]
    assert project.commits.get("main").id == commits[0].id
    assert project.branches.get("main").commit["id"] == commits[0].id
    page = project.commits.list(ref_name="main", per_page=1, page=2)
    assert [c.id for c in page] == [commits[1].id]


def test_start_branch_makes_a_new_branch(project):
    project.files.create({"file_path": "base.txt", "branch": "main", "content": "b", "commit_message": "base"})
    project.files.create(
        {
            "file_path": "feature.txt",
            "branch": "feature",
            "start_branch": "main",
            "content": "f",
            "commit_message": "feature",
        }
    )
    assert project.branches.get("feature").commit["title"] == "feature"
    assert project.files.raw(file_path="base.txt", ref="feature") == b"b"
    with pytest.raises(gitlab.GitlabGetError):
        project.files.get(file_path="feature.txt", ref="main")
