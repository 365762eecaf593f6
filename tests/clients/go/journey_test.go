package clients

// A full user journey against triggerd with the unmodified go-gitlab client (Debian's 0.73.1),
// whose strict encoding/json decoding fails a call on any field of the wrong JSON type: users,
// projects, members, branches and tags, pipeline trigger tokens, the trigger call, the Pipelines
// API and the errors a client sees. The subtests run in order and share state.

import (
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	gitlab "github.com/xanzy/go-gitlab"
)

var (
	srv     *server
	sha40   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	started = time.Now().Add(-time.Minute)
)

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	if code != 0 {
		os.Stderr.WriteString("--- server log ---\n" + s.Logs())
	}
	s.Stop()
	os.Exit(code)
}

// client is a go-gitlab client for the token, without retries (a 5xx must fail the test at once).
func client(t *testing.T, token string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewClient(token, gitlab.WithBaseURL(srv.URL+"/api/v4"), gitlab.WithoutRetries())
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantStatus checks that a call failed with the HTTP status (and, if given, the message).
func wantStatus(t *testing.T, err error, status int, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected a %d error, the call succeeded", status)
	}
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("expected *gitlab.ErrorResponse with %d, got %T: %v", status, err, err)
	}
	if er.Response.StatusCode != status {
		t.Fatalf("expected status %d, got %v", status, err)
	}
	if message != "" && er.Message != message {
		t.Fatalf("expected message %q, got %q", message, er.Message)
	}
}

func recent(t *testing.T, name string, ts *time.Time) {
	t.Helper()
	if ts == nil || ts.Before(started) || ts.After(time.Now().Add(time.Minute)) {
		t.Fatalf("%s is %v", name, ts)
	}
}

func checkPipeline(t *testing.T, p *gitlab.Pipeline, projectID int) {
	t.Helper()
	if p.ID <= 0 || p.IID <= 0 || p.ProjectID != projectID {
		t.Fatalf("ids: %+v", p)
	}
	if !sha40.MatchString(p.SHA) || p.Source != "trigger" || p.WebURL == "" || p.DetailedStatus == nil {
		t.Fatalf("pipeline: %+v", p)
	}
	if p.User == nil || p.User.Username != "alice" {
		t.Fatalf("user: %+v", p.User)
	}
	recent(t, "created_at", p.CreatedAt)
	recent(t, "updated_at", p.UpdatedAt)
}

type actor struct {
	user  *gitlab.User
	token string
	api   *gitlab.Client
}

func TestJourney(t *testing.T) {
	root := client(t, rootToken)
	users := map[string]*actor{}
	var project *gitlab.Project
	var triggers []*gitlab.PipelineTrigger
	pipelines := map[string]*gitlab.Pipeline{}

	// The steps share state: once one fails, the rest are skipped instead of failing on nils.
	failed := false
	step := func(name string, fn func(t *testing.T)) {
		if failed {
			t.Run(name, func(t *testing.T) { t.Skip("skipped: an earlier step failed") })
			return
		}
		ok := t.Run(name, func(t *testing.T) {
			// A panic would end the test binary before TestMain stops the server.
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			fn(t)
		})
		if !ok {
			failed = true
		}
	}

	step("current user", func(t *testing.T) {
		me, _, err := root.Users.CurrentUser()
		must(t, err)
		if me.Username != "root" || !me.IsAdmin || me.ID <= 0 {
			t.Fatalf("current user: %+v", me)
		}
		recent(t, "created_at", me.CreatedAt)
		// The same token as an OAuth bearer token (Authorization: Bearer).
		bearer, err := gitlab.NewOAuthClient(rootToken, gitlab.WithBaseURL(srv.URL+"/api/v4"), gitlab.WithoutRetries())
		must(t, err)
		viaBearer, _, err := bearer.Users.CurrentUser()
		must(t, err)
		if viaBearer.ID != me.ID {
			t.Fatalf("bearer: %+v", viaBearer)
		}
	})

	step("create users and tokens", func(t *testing.T) {
		for _, name := range []string{"alice", "dev", "rep", "outsider"} {
			u, _, err := root.Users.CreateUser(&gitlab.CreateUserOptions{
				Email:            gitlab.String(name + "@example.com"),
				Name:             gitlab.String("User " + name),
				Username:         gitlab.String(name),
				Password:         gitlab.String("correct-horse-battery"),
				SkipConfirmation: gitlab.Bool(true),
			})
			must(t, err)
			if u.Username != name || u.Email != name+"@example.com" || u.State != "active" {
				t.Fatalf("created user: %+v", u)
			}
			pat, _, err := root.Users.CreatePersonalAccessToken(u.ID, &gitlab.CreatePersonalAccessTokenOptions{
				Name:   gitlab.String(name + "-ci"),
				Scopes: &[]string{"api"},
			})
			must(t, err)
			if !strings.HasPrefix(pat.Token, "glpat-") || pat.UserID != u.ID || !pat.Active {
				t.Fatalf("token: %+v", pat)
			}
			users[name] = &actor{user: u, token: pat.Token, api: client(t, pat.Token)}
		}
		me, _, err := users["alice"].api.Users.CurrentUser()
		must(t, err)
		if me.ID != users["alice"].user.ID {
			t.Fatalf("alice's token is %+v", me)
		}
	})

	step("show users", func(t *testing.T) {
		full, _, err := root.Users.GetUser(users["dev"].user.ID, gitlab.GetUsersOptions{})
		must(t, err)
		if full.Email != "dev@example.com" {
			t.Fatalf("admin view: %+v", full)
		}
		basic, _, err := users["alice"].api.Users.GetUser(users["dev"].user.ID, gitlab.GetUsersOptions{})
		must(t, err)
		if basic.Username != "dev" || basic.Email != "" {
			t.Fatalf("basic view: %+v", basic)
		}
	})

	step("create and show a project", func(t *testing.T) {
		alice := users["alice"].api
		p, _, err := alice.Projects.CreateProject(&gitlab.CreateProjectOptions{
			Name:                 gitlab.String("Demo Project"),
			Path:                 gitlab.String("demo"),
			Visibility:           gitlab.Visibility(gitlab.PrivateVisibility),
			InitializeWithReadme: gitlab.Bool(true),
		})
		must(t, err)
		if p.PathWithNamespace != "alice/demo" || p.DefaultBranch != "main" || p.Owner == nil || p.Owner.Username != "alice" {
			t.Fatalf("project: %+v", p)
		}
		if p.Permissions == nil || p.Permissions.ProjectAccess == nil || p.Permissions.ProjectAccess.AccessLevel != gitlab.OwnerPermissions {
			t.Fatalf("permissions: %+v", p.Permissions)
		}
		project = p
		byID, _, err := alice.Projects.GetProject(p.ID, nil)
		must(t, err)
		byPath, _, err := alice.Projects.GetProject("alice/demo", nil)
		must(t, err)
		if byID.ID != p.ID || byPath.ID != p.ID || byPath.Namespace == nil || byPath.Namespace.FullPath != "alice" {
			t.Fatalf("by id %+v, by path %+v", byID, byPath)
		}
		// go-gitlab escapes '.' in a path id as %2E.
		dotted, _, err := alice.Projects.CreateProject(&gitlab.CreateProjectOptions{Path: gitlab.String("web.site")})
		must(t, err)
		shown, _, err := alice.Projects.GetProject("alice/web.site", nil)
		must(t, err)
		if shown.ID != dotted.ID || shown.PathWithNamespace != "alice/web.site" {
			t.Fatalf("dotted project: %+v", shown)
		}
	})

	step("members", func(t *testing.T) {
		alice := users["alice"].api
		dev, _, err := alice.ProjectMembers.AddProjectMember(project.ID, &gitlab.AddProjectMemberOptions{
			UserID: users["dev"].user.ID, AccessLevel: gitlab.AccessLevel(gitlab.DeveloperPermissions),
		})
		must(t, err)
		if dev.Username != "dev" || dev.AccessLevel != gitlab.DeveloperPermissions {
			t.Fatalf("member: %+v", dev)
		}
		for _, name := range []string{"rep", "outsider"} {
			_, _, err = alice.ProjectMembers.AddProjectMember(project.ID, &gitlab.AddProjectMemberOptions{
				UserID: users[name].user.ID, AccessLevel: gitlab.AccessLevel(gitlab.GuestPermissions),
			})
			must(t, err)
		}
		edited, _, err := alice.ProjectMembers.EditProjectMember(project.ID, users["rep"].user.ID,
			&gitlab.EditProjectMemberOptions{AccessLevel: gitlab.AccessLevel(gitlab.ReporterPermissions)})
		must(t, err)
		if edited.AccessLevel != gitlab.ReporterPermissions {
			t.Fatalf("edited: %+v", edited)
		}
		shown, _, err := alice.ProjectMembers.GetProjectMember(project.ID, users["rep"].user.ID)
		must(t, err)
		if shown.AccessLevel != gitlab.ReporterPermissions {
			t.Fatalf("shown: %+v", shown)
		}
		_, err = alice.ProjectMembers.DeleteProjectMember(project.ID, users["outsider"].user.ID)
		must(t, err)
		list, _, err := alice.ProjectMembers.ListProjectMembers(project.ID, nil)
		must(t, err)
		var names []string
		for _, m := range list {
			names = append(names, m.Username)
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "alice,dev,rep" {
			t.Fatalf("members: %v", names)
		}
		all, _, err := alice.ProjectMembers.ListAllProjectMembers(project.ID, nil)
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("all members: %d", len(all))
		}
		_, _, err = alice.ProjectMembers.GetProjectMember(project.ID, users["outsider"].user.ID)
		wantStatus(t, err, 404, "{message: 404 Not found}")
	})

	step("branches and tags", func(t *testing.T) {
		dev, rep := users["dev"].api, users["rep"].api
		b, _, err := dev.Branches.CreateBranch(project.ID, &gitlab.CreateBranchOptions{
			Branch: gitlab.String("feature/x"), Ref: gitlab.String("main"),
		})
		must(t, err)
		if b.Name != "feature/x" || b.Commit == nil || !sha40.MatchString(b.Commit.ID) {
			t.Fatalf("branch: %+v", b)
		}
		recent(t, "commit.committed_date", b.Commit.CommittedDate)
		shown, _, err := rep.Branches.GetBranch(project.ID, "feature/x")
		must(t, err)
		if shown.Commit.ID != b.Commit.ID {
			t.Fatalf("shown branch: %+v", shown)
		}
		_, _, err = dev.Branches.CreateBranch(project.ID, &gitlab.CreateBranchOptions{
			Branch: gitlab.String("tmp"), Ref: gitlab.String("main"),
		})
		must(t, err)
		_, err = dev.Branches.DeleteBranch(project.ID, "tmp")
		must(t, err)
		branches, _, err := rep.Branches.ListBranches(project.ID, nil)
		must(t, err)
		if len(branches) != 2 || branches[0].Name != "feature/x" || branches[1].Name != "main" || !branches[1].Default {
			t.Fatalf("branches: %+v", branches)
		}
		_, _, err = rep.Branches.GetBranch(project.ID, "tmp")
		wantStatus(t, err, 404, "{message: 404 Branch Not Found}")

		tag, _, err := dev.Tags.CreateTag(project.ID, &gitlab.CreateTagOptions{
			TagName: gitlab.String("v1.0.0"), Ref: gitlab.String("main"), Message: gitlab.String("first"),
		})
		must(t, err)
		if tag.Name != "v1.0.0" || !sha40.MatchString(tag.Target) || tag.Message != "first" {
			t.Fatalf("tag: %+v", tag)
		}
		gotTag, _, err := rep.Tags.GetTag(project.ID, "v1.0.0")
		must(t, err)
		if gotTag.Commit == nil || gotTag.Commit.ID != tag.Commit.ID {
			t.Fatalf("shown tag: %+v", gotTag)
		}
		tags, _, err := rep.Tags.ListTags(project.ID, nil)
		must(t, err)
		if len(tags) != 1 || tags[0].Name != "v1.0.0" {
			t.Fatalf("tags: %+v", tags)
		}
	})

	step("pipeline trigger tokens", func(t *testing.T) {
		alice := users["alice"].api
		for i := 1; i <= 5; i++ {
			tr, resp, err := alice.PipelineTriggers.AddPipelineTrigger(project.ID, &gitlab.AddPipelineTriggerOptions{
				Description: gitlab.String("trigger " + string(rune('0'+i))),
			})
			must(t, err)
			if resp.StatusCode != 201 || tr.ID <= 0 || !strings.HasPrefix(tr.Token, "glptt-") || tr.LastUsed != nil {
				t.Fatalf("trigger: %+v", tr)
			}
			if tr.Owner == nil || tr.Owner.Username != "alice" {
				t.Fatalf("owner: %+v", tr.Owner)
			}
			recent(t, "created_at", tr.CreatedAt)
			triggers = append(triggers, tr)
		}
		shown, _, err := alice.PipelineTriggers.GetPipelineTrigger(project.ID, triggers[0].ID)
		must(t, err)
		// Hashed at rest: later reads show the first 4 characters after the `glptt-` prefix.
		if shown.ID != triggers[0].ID || shown.Token != triggers[0].Token[6:10] {
			t.Fatalf("shown trigger: %+v", shown)
		}

		// Every page with per_page=2, following X-Next-Page as go-gitlab callers do.
		var ids []int
		opt := &gitlab.ListPipelineTriggersOptions{PerPage: 2, Page: 1}
		pages := 0
		for {
			page, resp, err := alice.PipelineTriggers.ListPipelineTriggers(project.ID, opt)
			must(t, err)
			pages++
			if resp.TotalItems != 5 || resp.TotalPages != 3 || resp.ItemsPerPage != 2 || resp.CurrentPage != pages {
				t.Fatalf("page %d headers: %+v", pages, resp)
			}
			for _, tr := range page {
				ids = append(ids, tr.ID)
			}
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		if pages != 3 || len(ids) != 5 || ids[0] != triggers[0].ID || ids[4] != triggers[4].ID {
			t.Fatalf("%d pages, ids %v", pages, ids)
		}
		// At most two pages.
		var capped []*gitlab.PipelineTrigger
		opt = &gitlab.ListPipelineTriggersOptions{PerPage: 2, Page: 1}
		for n := 0; n < 2; n++ {
			page, resp, err := alice.PipelineTriggers.ListPipelineTriggers(project.ID, opt)
			must(t, err)
			capped = append(capped, page...)
			opt.Page = resp.NextPage
		}
		if len(capped) != 4 {
			t.Fatalf("two pages gave %d triggers", len(capped))
		}

		edited, resp, err := alice.PipelineTriggers.EditPipelineTrigger(project.ID, triggers[1].ID,
			&gitlab.EditPipelineTriggerOptions{Description: gitlab.String("renamed")})
		must(t, err)
		if resp.StatusCode != 200 || edited.Description != "renamed" {
			t.Fatalf("edited: %+v", edited)
		}
		unchanged, _, err := alice.PipelineTriggers.EditPipelineTrigger(project.ID, triggers[1].ID, nil)
		must(t, err)
		if unchanged.Description != "renamed" {
			t.Fatalf("unchanged: %+v", unchanged)
		}
		resp, err = alice.PipelineTriggers.DeletePipelineTrigger(project.ID, triggers[4].ID)
		must(t, err)
		if resp.StatusCode != 204 {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		_, _, err = alice.PipelineTriggers.GetPipelineTrigger(project.ID, triggers[4].ID)
		wantStatus(t, err, 404, "{message: 404 Not found}")
	})

	step("trigger pipelines", func(t *testing.T) {
		p, resp, err := root.PipelineTriggers.RunPipelineTrigger(project.ID, &gitlab.RunPipelineTriggerOptions{
			Ref:       gitlab.String("main"),
			Token:     gitlab.String(triggers[0].Token),
			Variables: map[string]string{"DEPLOY_ENV": "staging", "GREETING": "hello world"},
		})
		must(t, err)
		if resp.StatusCode != 201 || p.Ref != "main" || p.Status != "created" || p.Tag || p.Duration != 0 {
			t.Fatalf("pipeline: %+v", p)
		}
		checkPipeline(t, p, project.ID)
		pipelines["main"] = p

		onTag, _, err := root.PipelineTriggers.RunPipelineTrigger("alice/demo", &gitlab.RunPipelineTriggerOptions{
			Ref: gitlab.String("v1.0.0"), Token: gitlab.String(triggers[0].Token),
		})
		must(t, err)
		if !onTag.Tag || onTag.Ref != "v1.0.0" || onTag.IID != p.IID+1 {
			t.Fatalf("tag pipeline: %+v", onTag)
		}
		pipelines["tag"] = onTag
		onBranch, _, err := root.PipelineTriggers.RunPipelineTrigger(project.ID, &gitlab.RunPipelineTriggerOptions{
			Ref: gitlab.String("feature/x"), Token: gitlab.String(triggers[1].Token),
			Variables: map[string]string{"ONLY": "one"},
		})
		must(t, err)
		if onBranch.Ref != "feature/x" || onBranch.IID != p.IID+2 {
			t.Fatalf("branch pipeline: %+v", onBranch)
		}
		pipelines["branch"] = onBranch

		used, _, err := users["alice"].api.PipelineTriggers.GetPipelineTrigger(project.ID, triggers[0].ID)
		must(t, err)
		recent(t, "last_used", used.LastUsed)
	})

	step("list pipelines with filters", func(t *testing.T) {
		rep := users["rep"].api
		ids := func(opt *gitlab.ListProjectPipelinesOptions) []int {
			t.Helper()
			list, _, err := rep.Pipelines.ListProjectPipelines(project.ID, opt)
			must(t, err)
			out := []int{}
			for _, p := range list {
				if p.ProjectID != project.ID || p.CreatedAt == nil || p.UpdatedAt == nil || p.WebURL == "" {
					t.Fatalf("pipeline info: %+v", p)
				}
				out = append(out, p.ID)
			}
			return out
		}
		m, tg, br := pipelines["main"].ID, pipelines["tag"].ID, pipelines["branch"].ID
		same := func(got []int, want ...int) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
		}
		same(ids(nil), br, tg, m)
		same(ids(&gitlab.ListProjectPipelinesOptions{Ref: gitlab.String("main")}), m)
		same(ids(&gitlab.ListProjectPipelinesOptions{OrderBy: gitlab.String("id"), Sort: gitlab.String("asc")}), m, tg, br)
		same(ids(&gitlab.ListProjectPipelinesOptions{
			Status: gitlab.BuildState(gitlab.Created), Source: gitlab.String("trigger"),
		}), br, tg, m)
		same(ids(&gitlab.ListProjectPipelinesOptions{Username: gitlab.String("alice")}), br, tg, m)
		same(ids(&gitlab.ListProjectPipelinesOptions{SHA: gitlab.String(pipelines["tag"].SHA), Ref: gitlab.String("v1.0.0")}), tg)
		same(ids(&gitlab.ListProjectPipelinesOptions{Scope: gitlab.String("tags")}), tg)
		same(ids(&gitlab.ListProjectPipelinesOptions{UpdatedAfter: gitlab.Time(time.Now().Add(time.Hour))}))
		same(ids(&gitlab.ListProjectPipelinesOptions{UpdatedBefore: gitlab.Time(time.Now().Add(time.Hour))}), br, tg, m)
		_, resp, err := rep.Pipelines.ListProjectPipelines(project.ID, &gitlab.ListProjectPipelinesOptions{
			ListOptions: gitlab.ListOptions{PerPage: 1, Page: 2},
		})
		must(t, err)
		if resp.TotalItems != 3 || resp.TotalPages != 3 || resp.NextPage != 3 || resp.PreviousPage != 1 {
			t.Fatalf("pagination: %+v", resp)
		}
	})

	step("show a pipeline and its variables", func(t *testing.T) {
		p, _, err := users["rep"].api.Pipelines.GetPipeline(project.ID, pipelines["main"].ID)
		must(t, err)
		checkPipeline(t, p, project.ID)
		if p.ID != pipelines["main"].ID || p.StartedAt != nil || p.FinishedAt != nil {
			t.Fatalf("pipeline: %+v", p)
		}
		vars, _, err := users["alice"].api.Pipelines.GetPipelineVariables(project.ID, pipelines["main"].ID)
		must(t, err)
		byKey := map[string]*gitlab.PipelineVariable{}
		for _, v := range vars {
			byKey[v.Key] = v
		}
		if v := byKey["DEPLOY_ENV"]; v == nil || v.Value != "staging" || v.VariableType != "env_var" {
			t.Fatalf("DEPLOY_ENV: %+v", v)
		}
		if v := byKey["GREETING"]; v == nil || v.Value != "hello world" {
			t.Fatalf("GREETING: %+v", v)
		}
		if v := byKey["TRIGGER_PAYLOAD"]; v == nil || v.VariableType != "file" || strings.Contains(v.Value, "glptt-") {
			t.Fatalf("TRIGGER_PAYLOAD: %+v", v)
		}
	})

	step("cancel, retry and delete pipelines", func(t *testing.T) {
		dev := users["dev"].api
		canceled, _, err := dev.Pipelines.CancelPipelineBuild(project.ID, pipelines["main"].ID)
		must(t, err)
		if canceled.Status != "canceled" {
			t.Fatalf("canceled: %+v", canceled)
		}
		recent(t, "finished_at", canceled.FinishedAt)
		retried, resp, err := dev.Pipelines.RetryPipelineBuild(project.ID, pipelines["main"].ID)
		must(t, err)
		if resp.StatusCode != 201 || retried.Status != "pending" || retried.FinishedAt != nil {
			t.Fatalf("retried: %+v", retried)
		}
		pending, _, err := dev.Pipelines.ListProjectPipelines(project.ID, &gitlab.ListProjectPipelinesOptions{
			Status: gitlab.BuildState(gitlab.Pending),
		})
		must(t, err)
		if len(pending) != 1 || pending[0].ID != pipelines["main"].ID {
			t.Fatalf("pending: %+v", pending)
		}
		resp, err = users["alice"].api.Pipelines.DeletePipeline(project.ID, pipelines["tag"].ID)
		must(t, err)
		if resp.StatusCode != 204 {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		_, _, err = dev.Pipelines.GetPipeline(project.ID, pipelines["tag"].ID)
		wantStatus(t, err, 404, "{message: 404 Not found}")
	})

	step("401 for a bad token", func(t *testing.T) {
		bad := client(t, "glpat-not-a-real-token-000000")
		_, _, err := bad.Users.CurrentUser()
		wantStatus(t, err, 401, "{message: 401 Unauthorized}")
		_, _, err = bad.PipelineTriggers.ListPipelineTriggers(project.ID, nil)
		wantStatus(t, err, 401, "{message: 401 Unauthorized}")
	})

	step("403 for a role that is too low", func(t *testing.T) {
		rep, dev := users["rep"].api, users["dev"].api
		_, _, err := rep.PipelineTriggers.AddPipelineTrigger(project.ID, &gitlab.AddPipelineTriggerOptions{Description: gitlab.String("no")})
		wantStatus(t, err, 403, "{message: 403 Forbidden}")
		_, _, err = dev.PipelineTriggers.ListPipelineTriggers(project.ID, nil)
		wantStatus(t, err, 403, "{message: 403 Forbidden}")
		_, _, err = rep.Pipelines.CancelPipelineBuild(project.ID, pipelines["main"].ID)
		wantStatus(t, err, 403, "{message: 403 Forbidden}")
		_, err = dev.Pipelines.DeletePipeline(project.ID, pipelines["main"].ID)
		wantStatus(t, err, 403, "{message: 403 Forbidden}")
		_, _, err = dev.Users.CreateUser(&gitlab.CreateUserOptions{
			Email: gitlab.String("x@example.com"), Name: gitlab.String("x"), Username: gitlab.String("x"),
			Password: gitlab.String("longenough"),
		})
		wantStatus(t, err, 403, "{message: 403 Forbidden}")
	})

	step("404 for what does not exist or cannot be seen", func(t *testing.T) {
		alice := users["alice"].api
		_, _, err := alice.Projects.GetProject("alice/missing", nil)
		wantStatus(t, err, 404, "{message: 404 Project Not Found}")
		_, _, err = users["outsider"].api.Projects.GetProject(project.ID, nil)
		wantStatus(t, err, 404, "{message: 404 Project Not Found}")
		_, _, err = alice.PipelineTriggers.GetPipelineTrigger(project.ID, 999999)
		wantStatus(t, err, 404, "{message: 404 Not found}")
		_, _, err = alice.Pipelines.GetPipeline(project.ID, 999999)
		wantStatus(t, err, 404, "{message: 404 Not found}")
		_, _, err = root.Users.GetUser(999999, gitlab.GetUsersOptions{})
		wantStatus(t, err, 404, "{message: 404 User Not Found}")
		_, _, err = root.PipelineTriggers.RunPipelineTrigger(project.ID, &gitlab.RunPipelineTriggerOptions{
			Ref: gitlab.String("main"), Token: gitlab.String("glptt-wrong"),
		})
		wantStatus(t, err, 404, "{message: 404 Not Found}")
	})

	step("400 for bad input", func(t *testing.T) {
		alice := users["alice"].api
		_, _, err := alice.PipelineTriggers.AddPipelineTrigger(project.ID, nil)
		wantStatus(t, err, 400, "{error: description is missing}")
		// go-gitlab sends an unset token as JSON null.
		_, _, err = root.PipelineTriggers.RunPipelineTrigger(project.ID, &gitlab.RunPipelineTriggerOptions{Ref: gitlab.String("main")})
		wantStatus(t, err, 400, "{error: token is missing}")
		_, _, err = root.PipelineTriggers.RunPipelineTrigger(project.ID, &gitlab.RunPipelineTriggerOptions{
			Ref: gitlab.String("no-such-ref"), Token: gitlab.String(triggers[0].Token),
		})
		wantStatus(t, err, 400, "{message: {base: [Reference not found]}}")
		_, _, err = users["rep"].api.Pipelines.ListProjectPipelines(project.ID, &gitlab.ListProjectPipelinesOptions{
			Status: gitlab.BuildState("bogus"),
		})
		wantStatus(t, err, 400, "{error: status does not have a valid value}")
		_, _, err = alice.ProjectMembers.AddProjectMember(project.ID, &gitlab.AddProjectMemberOptions{
			UserID: users["outsider"].user.ID, AccessLevel: gitlab.AccessLevel(42),
		})
		wantStatus(t, err, 400, "{error: access_level does not have a valid value}")
		_, _, err = alice.Projects.CreateProject(&gitlab.CreateProjectOptions{
			Name: gitlab.String("Demo Project"), Path: gitlab.String("demo"),
		})
		wantStatus(t, err, 400, "")
	})
}
