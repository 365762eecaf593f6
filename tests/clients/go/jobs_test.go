package clients

// The Jobs API with the unmodified go-gitlab client: a `.gitlab-ci.yml` stored with
// RepositoryFiles, a pipeline made by Pipelines.CreatePipeline, its jobs moved through their states
// by a runner made of raw HTTP calls (GitLab's runner protocol), then read back under Go's strict
// JSON decoding with Jobs.ListPipelineJobs, Jobs.ListProjectJobs, Jobs.GetJob and Jobs.GetTraceFile.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	gitlab "github.com/xanzy/go-gitlab"
)

const jobsCI = `stages: [build, deploy]
build:
  stage: build
  script: echo building $K
deploy:
  stage: deploy
  script: echo deploying
`

// rawRunner speaks the runner protocol with net/http, as gitlab-runner does.
type rawRunner struct {
	api   string
	id    int
	token string
}

// runnerJob is the part of POST /jobs/request's payload the runner needs.
type runnerJob struct {
	ID      int    `json:"id"`
	Token   string `json:"token"`
	JobInfo struct {
		Name  string `json:"name"`
		Stage string `json:"stage"`
	} `json:"job_info"`
}

func call(t *testing.T, method, url string, header map[string]string, body []byte, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	must(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: want %d, got %d: %s", method, url, want, resp.StatusCode, out)
	}
	return out
}

func jsonBody(t *testing.T, v interface{}) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

var jsonHeader = map[string]string{"Content-Type": "application/json"}

// registerRunner makes a project runner with POST /user/runners (not in go-gitlab 0.73.1).
func registerRunner(t *testing.T, projectID int) *rawRunner {
	t.Helper()
	api := srv.URL + "/api/v4"
	out := call(t, http.MethodPost, api+"/user/runners",
		map[string]string{"Content-Type": "application/json", "PRIVATE-TOKEN": rootToken},
		jsonBody(t, map[string]interface{}{"runner_type": "project_type", "project_id": projectID}), http.StatusCreated)
	var made struct {
		ID    int    `json:"id"`
		Token string `json:"token"`
	}
	must(t, json.Unmarshal(out, &made))
	return &rawRunner{api: api, id: made.ID, token: made.Token}
}

func (r *rawRunner) request(t *testing.T) runnerJob {
	t.Helper()
	out := call(t, http.MethodPost, r.api+"/jobs/request", jsonHeader,
		jsonBody(t, map[string]string{"token": r.token}), http.StatusCreated)
	var job runnerJob
	must(t, json.Unmarshal(out, &job))
	return job
}

func (r *rawRunner) log(t *testing.T, job runnerJob, text string) {
	t.Helper()
	call(t, http.MethodPatch, fmt.Sprintf("%s/jobs/%d/trace", r.api, job.ID),
		map[string]string{"JOB-TOKEN": job.Token, "Content-Range": fmt.Sprintf("0-%d", len(text)-1)},
		[]byte(text), http.StatusAccepted)
}

func (r *rawRunner) finish(t *testing.T, job runnerJob, state string) {
	t.Helper()
	body := map[string]string{"token": job.Token, "state": state}
	if state == "failed" {
		body["failure_reason"] = "script_failure" // what gitlab-runner reports for a failing script
	}
	call(t, http.MethodPut, fmt.Sprintf("%s/jobs/%d", r.api, job.ID), jsonHeader, jsonBody(t, body), http.StatusOK)
}

func jobNames(jobs []*gitlab.Job) []string {
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name+":"+j.Status)
	}
	sort.Strings(names)
	return names
}

func TestJobs(t *testing.T) {
	root := client(t, rootToken)
	project, _, err := root.Projects.CreateProject(&gitlab.CreateProjectOptions{
		Name: gitlab.String("jobs"), InitializeWithReadme: gitlab.Bool(true),
	})
	must(t, err)
	_, _, err = root.RepositoryFiles.CreateFile(project.ID, ".gitlab-ci.yml", &gitlab.CreateFileOptions{
		Branch: gitlab.String("main"), Content: gitlab.String(jobsCI), CommitMessage: gitlab.String("add CI"),
	})
	must(t, err)
	pipeline, _, err := root.Pipelines.CreatePipeline(project.ID, &gitlab.CreatePipelineOptions{
		Ref:       gitlab.String("main"),
		Variables: &[]*gitlab.PipelineVariableOptions{{Key: gitlab.String("K"), Value: gitlab.String("v")}},
	})
	must(t, err)
	if pipeline.Status != "pending" || pipeline.Source != "api" {
		t.Fatalf("pipeline: %+v", pipeline)
	}

	runner := registerRunner(t, project.ID)
	build := runner.request(t)
	if build.JobInfo.Name != "build" {
		t.Fatalf("first job: %+v", build)
	}
	runner.log(t, build, "building v\n")
	runner.finish(t, build, "success")

	t.Run("ListPipelineJobs", func(t *testing.T) {
		jobs, _, err := root.Jobs.ListPipelineJobs(project.ID, pipeline.ID, nil)
		must(t, err)
		if got := strings.Join(jobNames(jobs), ","); got != "build:success,deploy:pending" {
			t.Fatalf("jobs: %s", got)
		}
		for _, j := range jobs {
			if j.Pipeline.ID != pipeline.ID || j.Pipeline.Sha != pipeline.SHA || j.Ref != "main" {
				t.Fatalf("job %d: %+v", j.ID, j.Pipeline)
			}
			recent(t, "created_at", j.CreatedAt)
			if j.Commit == nil || j.Commit.ID != pipeline.SHA || j.User == nil || j.User.Username != "root" {
				t.Fatalf("job %d: commit %+v user %+v", j.ID, j.Commit, j.User)
			}
		}
		done, _, err := root.Jobs.ListPipelineJobs(project.ID, pipeline.ID, &gitlab.ListJobsOptions{
			Scope: &[]gitlab.BuildStateValue{gitlab.Success},
		})
		must(t, err)
		if len(done) != 1 || done[0].ID != build.ID {
			t.Fatalf("success scope: %s", jobNames(done))
		}
	})

	deploy := runner.request(t)
	runner.finish(t, deploy, "failed")

	t.Run("ListProjectJobs", func(t *testing.T) {
		page := func(n int) *gitlab.ListJobsOptions {
			return &gitlab.ListJobsOptions{ListOptions: gitlab.ListOptions{PerPage: 1, Page: n}}
		}
		jobs, resp, err := root.Jobs.ListProjectJobs(project.ID, page(1))
		must(t, err)
		if len(jobs) != 1 || jobs[0].ID != deploy.ID || resp.NextPage != 2 || resp.TotalItems != 2 {
			t.Fatalf("page 1: %s, next %d, total %d", jobNames(jobs), resp.NextPage, resp.TotalItems)
		}
		jobs, resp, err = root.Jobs.ListProjectJobs(project.ID, page(2))
		must(t, err)
		if len(jobs) != 1 || jobs[0].ID != build.ID || resp.NextPage != 0 {
			t.Fatalf("page 2: %s, next %d", jobNames(jobs), resp.NextPage)
		}
		failed, _, err := root.Jobs.ListProjectJobs(project.ID, &gitlab.ListJobsOptions{
			Scope: &[]gitlab.BuildStateValue{gitlab.Failed, gitlab.Canceled},
		})
		must(t, err)
		if len(failed) != 1 || failed[0].ID != deploy.ID || failed[0].FailureReason != "script_failure" {
			t.Fatalf("failed scope: %+v", failed)
		}
	})

	t.Run("GetJob", func(t *testing.T) {
		j, _, err := root.Jobs.GetJob(project.ID, build.ID)
		must(t, err)
		if j.Name != "build" || j.Stage != "build" || j.Status != "success" || j.AllowFailure {
			t.Fatalf("job: %+v", j)
		}
		if j.Runner.ID != runner.id || !j.Runner.Active || j.Runner.IsShared {
			t.Fatalf("runner: %+v", j.Runner)
		}
		recent(t, "started_at", j.StartedAt)
		recent(t, "finished_at", j.FinishedAt)
		if j.Duration < 0 || j.QueuedDuration < 0 || !strings.HasSuffix(j.WebURL, fmt.Sprintf("/-/jobs/%d", build.ID)) {
			t.Fatalf("job: duration %v queued %v web_url %q", j.Duration, j.QueuedDuration, j.WebURL)
		}
		_, _, err = root.Jobs.GetJob(project.ID, 999999)
		wantStatus(t, err, 404, "")
	})

	t.Run("GetTraceFile", func(t *testing.T) {
		trace, _, err := root.Jobs.GetTraceFile(project.ID, build.ID)
		must(t, err)
		log, err := io.ReadAll(trace)
		must(t, err)
		if string(log) != "building v\n" {
			t.Fatalf("trace: %q", log)
		}
		trace, _, err = root.Jobs.GetTraceFile(project.ID, deploy.ID)
		must(t, err)
		if trace.Len() != 0 {
			t.Fatalf("deploy logged %d bytes", trace.Len())
		}
	})
}
