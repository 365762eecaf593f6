package clients

// Groups with go-gitlab's strict decoding: a group and a subgroup, a project created in it with
// NamespaceID, a member at group level whose inherited Maintainer role manages the project's
// trigger tokens, the trigger call by `org/team/app`, namespaces by id and path, ModifyUser.

import (
	"testing"

	gitlab "github.com/xanzy/go-gitlab"
)

func TestGroupsSubgroupsAndAProjectTriggeredByItsFullPath(t *testing.T) {
	root := client(t, rootToken)
	newUser := func(name string) (*gitlab.User, *gitlab.Client) {
		u, _, err := root.Users.CreateUser(&gitlab.CreateUserOptions{
			Email:            gitlab.String(name + "@example.com"),
			Name:             gitlab.String("User " + name),
			Username:         gitlab.String(name),
			Password:         gitlab.String("correct-horse-battery"),
			SkipConfirmation: gitlab.Bool(true),
		})
		must(t, err)
		pat, _, err := root.Users.CreatePersonalAccessToken(u.ID, &gitlab.CreatePersonalAccessTokenOptions{
			Name:   gitlab.String("ci"),
			Scopes: &[]string{"api"},
		})
		must(t, err)
		return u, client(t, pat.Token)
	}
	_, boss := newUser("gboss")
	maint, maintAPI := newUser("gmaint")
	guest, guestAPI := newUser("gguest")

	org, _, err := boss.Groups.CreateGroup(&gitlab.CreateGroupOptions{Name: gitlab.String("Go Org"), Path: gitlab.String("goorg")})
	must(t, err)
	team, _, err := boss.Groups.CreateGroup(&gitlab.CreateGroupOptions{
		Name: gitlab.String("Team"), Path: gitlab.String("team"), ParentID: gitlab.Int(org.ID),
	})
	must(t, err)
	if team.FullPath != "goorg/team" || team.ParentID != org.ID || team.CreatedAt == nil {
		t.Fatalf("subgroup: %+v", team)
	}
	p, _, err := boss.Projects.CreateProject(&gitlab.CreateProjectOptions{
		Name: gitlab.String("app"), NamespaceID: gitlab.Int(team.ID), InitializeWithReadme: gitlab.Bool(true),
	})
	must(t, err)
	if p.PathWithNamespace != "goorg/team/app" || p.Namespace.Kind != "group" || p.Namespace.ID != team.ID {
		t.Fatalf("project in a subgroup: %+v %+v", p, p.Namespace)
	}
	subs, _, err := boss.Groups.ListSubGroups(org.ID, &gitlab.ListSubGroupsOptions{})
	must(t, err)
	if len(subs) != 1 || subs[0].ID != team.ID {
		t.Fatalf("subgroups: %+v", subs)
	}

	_, _, err = boss.GroupMembers.AddGroupMember(org.ID, &gitlab.AddGroupMemberOptions{
		UserID: gitlab.Int(maint.ID), AccessLevel: gitlab.AccessLevel(gitlab.MaintainerPermissions),
	})
	must(t, err)
	_, _, err = boss.GroupMembers.AddGroupMember(team.ID, &gitlab.AddGroupMemberOptions{
		UserID: gitlab.Int(guest.ID), AccessLevel: gitlab.AccessLevel(gitlab.GuestPermissions),
	})
	must(t, err)

	tr, _, err := maintAPI.PipelineTriggers.AddPipelineTrigger("goorg/team/app", &gitlab.AddPipelineTriggerOptions{
		Description: gitlab.String("from the group"),
	})
	must(t, err)
	_, _, err = guestAPI.PipelineTriggers.AddPipelineTrigger("goorg/team/app", &gitlab.AddPipelineTriggerOptions{
		Description: gitlab.String("no"),
	})
	wantStatus(t, err, 403, "")
	pipeline, _, err := root.PipelineTriggers.RunPipelineTrigger("goorg/team/app", &gitlab.RunPipelineTriggerOptions{
		Ref: gitlab.String("main"), Token: gitlab.String(tr.Token),
	})
	must(t, err)
	if pipeline.ProjectID != p.ID || pipeline.Source != "trigger" {
		t.Fatalf("pipeline: %+v", pipeline)
	}

	ns, _, err := boss.Namespaces.GetNamespace("goorg/team")
	must(t, err)
	if ns.ID != team.ID || ns.Kind != "group" || ns.ParentID != org.ID || ns.MembersCountWithDescendants != 2 { // its creator and the guest
		t.Fatalf("namespace: %+v", ns)
	}
	mine, _, err := maintAPI.Namespaces.GetNamespace(maint.ID)
	must(t, err)
	if mine.Kind != "user" || mine.FullPath != "gmaint" {
		t.Fatalf("user namespace: %+v", mine)
	}

	edited, _, err := root.Users.ModifyUser(guest.ID, &gitlab.ModifyUserOptions{Name: gitlab.String("Renamed Guest")})
	must(t, err)
	if edited.Name != "Renamed Guest" {
		t.Fatalf("modified user: %+v", edited)
	}

	_, err = boss.Groups.DeleteGroup(org.ID)
	must(t, err)
	_, _, err = root.Projects.GetProject(p.ID, nil)
	wantStatus(t, err, 404, "")
}
