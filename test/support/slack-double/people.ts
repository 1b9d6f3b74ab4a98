import { fail, flag, text } from "./args.js";
import type { DoubleState, Methods } from "./state.js";

/** Who is who: auth.test, users.info and the user groups. */
export function people(state: DoubleState): Methods {
  const { workspace } = state;
  return {
    "auth.test": () => ({
      ok: true,
      url: `https://${workspace.teamDomain}.slack.com/`,
      team: workspace.teamDomain,
      user: workspace.users.get(workspace.botUserId)?.name ?? "handout",
      team_id: workspace.teamId,
      user_id: workspace.botUserId,
      bot_id: workspace.botId,
      is_enterprise_install: false,
    }),
    "users.info": (args) => {
      const user = workspace.users.get(text(args, "user") ?? "");
      if (!user) return fail("user_not_found");
      const realName = user.real_name ?? user.name;
      return {
        ok: true,
        user: {
          team_id: workspace.teamId,
          deleted: false,
          color: "9f69e7",
          tz: "Europe/London",
          tz_label: "Greenwich Mean Time",
          tz_offset: 0,
          is_admin: false,
          is_owner: false,
          is_primary_owner: false,
          is_restricted: false,
          is_ultra_restricted: false,
          is_bot: false,
          is_app_user: false,
          updated: 1_600_000_000,
          ...user,
          real_name: realName,
          profile: { real_name: realName, display_name: user.name, team: workspace.teamId },
        },
      };
    },

    "usergroups.list": (args) => {
      const includeUsers = flag(args, "include_users");
      const includeCount = flag(args, "include_count");
      return {
        ok: true,
        usergroups: [...workspace.usergroups.values()].map((group) => ({
          id: group.id,
          team_id: workspace.teamId,
          is_usergroup: true,
          is_subteam: true,
          name: group.name,
          description: "",
          handle: group.handle,
          is_external: false,
          date_create: 1_600_000_000,
          date_update: 1_600_000_000,
          date_delete: 0,
          auto_type: null,
          created_by: workspace.botUserId,
          updated_by: workspace.botUserId,
          deleted_by: null,
          prefs: { channels: [], groups: [] },
          ...(includeUsers ? { users: [...group.users] } : {}),
          ...(includeCount ? { user_count: group.users.length } : {}),
        })),
      };
    },

    "usergroups.users.list": (args) => {
      const group = workspace.usergroups.get(text(args, "usergroup") ?? "");
      if (!group) return fail("no_such_subteam");
      return { ok: true, users: [...group.users] };
    },
  };
}
