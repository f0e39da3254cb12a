// Users (owner only): create, change role, disable or enable.

import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { t } from "../i18n";
import { me, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, Loading, Notice, onInput, Page, useLoad, useSubmit } from "../ui";

interface User {
  user_id: string;
  email: string;
  role: string;
  org_id: string | null;
  disabled: boolean;
}

const ROLES = ["owner", "manager", "cashier", "auditor"];

export function Users() {
  const who = useSignal(me);
  const users = useLoad(() => api.get<{ users: User[] }>(orgPath("/users")).then((r) => r.users));
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);

  const update = async (user: User, change: { role?: string; disabled?: boolean }) => {
    setRowError(null);
    try {
      const updated = await api.patch<User>(orgPath(`/users/${user.user_id}`), change);
      users.setData((users.data ?? []).map((u) => (u.user_id === user.user_id ? { ...u, ...updated } : u)));
    } catch (err) {
      setRowError({ id: user.user_id, message: errorText(err) });
      users.reload();
    }
  };

  return (
    <Page title={t("users.title")}>
      <UserForm onCreated={users.reload} />
      <h2>{t("users.title")}</h2>
      <Loading show={users.loading} />
      <Alert message={users.error} />
      {users.data && (
        <div class="table-wrap">
          <table class="users-table">
            <thead>
              <tr>
                <th scope="col">{t("users.email")}</th>
                <th scope="col">{t("users.role")}</th>
                <th scope="col">{t("common.status")}</th>
                <th scope="col">{t("common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <tr key={user.user_id} class={user.disabled ? "disabled" : ""}>
                  <td data-label={t("users.email")}>{user.email}</td>
                  <td data-label={t("users.role")}>
                    <select
                      aria-label={t("users.roleFor", { email: user.email })}
                      value={user.role}
                      disabled={user.user_id === who?.user_id}
                      onChange={(event) => update(user, { role: (event.currentTarget as HTMLSelectElement).value })}
                    >
                      {ROLES.map((role) => (
                        <option key={role} value={role}>
                          {t(`role.${role}`)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td data-label={t("common.status")}>{user.disabled ? t("users.disabled") : t("users.enabled")}</td>
                  <td class="actions">
                    {user.user_id !== who?.user_id && (
                      <button
                        type="button"
                        class={user.disabled ? "secondary" : "danger"}
                        aria-label={`${user.disabled ? t("users.enable") : t("users.disable")} ${user.email}`}
                        onClick={() => update(user, { disabled: !user.disabled })}
                      >
                        {user.disabled ? t("users.enable") : t("users.disable")}
                      </button>
                    )}
                    {rowError?.id === user.user_id && <Alert message={rowError.message} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function UserForm({ onCreated }: { onCreated: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("cashier");
  const { submit, error, notice, busy } = useSubmit(async () => {
    await api.post(orgPath("/users"), { email: email.trim(), password, role });
    setEmail("");
    setPassword("");
    onCreated();
    return t("users.created");
  });
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="user-form-title">
      <h2 id="user-form-title">{t("users.new")}</h2>
      <div class="grid">
        <Field label={t("users.email")}>
          {(id) => <input id={id} name="email" type="email" required autocomplete="off" value={email} onInput={onInput(setEmail)} />}
        </Field>
        <Field label={t("users.password")} hint={t("users.passwordHint")}>
          {(id, hint) => (
            <input id={id} name="password" type="password" required minLength={10} autocomplete="new-password" aria-describedby={hint} value={password} onInput={onInput(setPassword)} />
          )}
        </Field>
        <Field label={t("users.role")}>
          {(id) => (
            <select id={id} name="role" value={role} onChange={onInput(setRole)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Alert message={error} />
      <Notice message={notice} />
      <button type="submit" disabled={busy}>
        {t("common.create")}
      </button>
    </form>
  );
}
