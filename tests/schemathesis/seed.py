"""Seeds a fresh triggerd over HTTP for the schemathesis run and prints shell assignments.

Creates, as root: a public, an internal and a private project (each with a `main` branch and a
`v1.0` tag, then a commit of `README.md` on `main`), a trigger on the public one with one
triggered pipeline, and a user `outsider` who is a member of nothing, with an `api`-scoped
personal access token.

Usage: seed.py BASE_URL ROOT_TOKEN   (BASE_URL like http://127.0.0.1:PORT)
"""

import json
import sys
import urllib.parse
import urllib.request


def call(base, method, path, token=None, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(base + "/api/v4" + path, data=data, method=method)
    if token:
        req.add_header("PRIVATE-TOKEN", token)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def main():
    base, root = sys.argv[1], sys.argv[2]
    out = {}
    for visibility in ("public", "internal", "private"):
        p = call(base, "POST", "/projects", root,
                 {"name": f"st-{visibility}", "visibility": visibility, "initialize_with_readme": "true"})
        call(base, "POST", f"/projects/{p['id']}/repository/tags", root, {"tag_name": "v1.0", "ref": "main"})
        call(base, "POST", f"/projects/{p['id']}/repository/files/README.md", root,
             {"branch": "main", "content": "# st\n", "commit_message": "Add README.md"})
        out[f"{visibility.upper()}_PROJECT_ID"] = p["id"]
    pid = out["PUBLIC_PROJECT_ID"]
    trigger = call(base, "POST", f"/projects/{pid}/triggers", root, {"description": "schemathesis"})
    out["TRIGGER_TOKEN"] = trigger["token"]
    pipeline = call(base, "POST", f"/projects/{pid}/trigger/pipeline", None,
                    {"token": trigger["token"], "ref": "main", "variables[DEPLOY]": "yes"})
    out["PIPELINE_ID"] = pipeline["id"]
    user = call(base, "POST", "/users", root,
                {"username": "outsider", "name": "Outsider", "email": "outsider@example.com",
                 "password": "outsider-password-1"})
    out["OUTSIDER_ID"] = user["id"]
    pat = call(base, "POST", f"/users/{user['id']}/personal_access_tokens", root,
               {"name": "schemathesis", "scopes[]": "api"})
    out["OUTSIDER_TOKEN"] = pat["token"]
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
