// A service's page logs in through the realm's public client (authorisation code with PKCE, keycloak-js from the
// service's own web/package.json) and calls its API with `authorizedFetch`, which keeps the token fresh.
// The page's own script waits for the "logged-in" event (or finds `authorizedFetch` already there).
import Keycloak from "./web/node_modules/keycloak-js/lib/keycloak.js";

const config = await (await fetch("login-config", {cache: "no-store"})).json();
const keycloak = new Keycloak(config);
await keycloak.init({onLoad: "login-required", pkceMethod: "S256", checkLoginIframe: false});

window.authorizedFetch = async (url, options = {}) => {
  await keycloak.updateToken(30);
  return fetch(url, {...options, headers: {...options.headers, Authorization: `Bearer ${keycloak.token}`}});
};
window.logout = () => keycloak.logout({redirectUri: window.location.href});
// Tokens carry the subject, username, roles and groups, nothing personal: the page names the roles it was logged in
// with; `username` and `groups` tell a page whose a claimed task is.
const roles = keycloak.tokenParsed.realm_access?.roles ?? [];
window.loggedIn = {roles: roles.join(", ") || "no role",
                   username: keycloak.tokenParsed.preferred_username ?? keycloak.subject,
                   groups: keycloak.tokenParsed.groups ?? []};
window.dispatchEvent(new CustomEvent("logged-in", {detail: window.loggedIn}));
