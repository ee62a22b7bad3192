package admin

import (
	"net/http"

	"github.com/herald-news/herald/internal/auth"
)

// table is the whole admin URL surface, each route with the one permission
// it needs.
func (a *Admin) table() []route {
	pub := func(method, path string, h handler) route {
		return route{method: method, path: path, public: true, h: h}
	}
	r := func(method, path string, p auth.Permission, h handler) route {
		return route{method: method, path: path, perm: p, h: h}
	}
	// enrol routes are open to a session that must set up a second
	// factor before anything else.
	enrol := func(method, path string, h handler) route {
		return route{method: method, path: path, perm: auth.ManageAccount, enrol: true, h: h}
	}
	// passwd routes are open to a user who must replace a password
	// Herald generated before anything else.
	passwd := func(rt route) route {
		rt.passwd = true
		return rt
	}
	return []route{
		pub("GET", "/admin/static/{file}", a.staticFile),
		pub("GET", "/admin/login", a.loginForm),
		pub("POST", "/admin/login", a.login),
		pub("GET", "/admin/login/second", a.secondForm),
		pub("POST", "/admin/login/second", a.second),
		pub("POST", "/admin/login/passkey/begin", a.passkeyLoginBegin),
		pub("POST", "/admin/login/passkey/finish", a.passkeyLoginFinish),
		pub("GET", "/admin/forgot", a.forgotForm),
		pub("POST", "/admin/forgot", a.forgot),
		pub("GET", "/admin/reset/{token}", a.resetForm),
		pub("POST", "/admin/reset/{token}", a.reset),
		pub("GET", "/admin/sso/{name}", a.ssoStart),
		pub("GET", "/admin/sso/{name}/callback", a.ssoCallback),
		{method: "POST", path: "/admin/logout", perm: auth.ReadStats, enrol: true, passwd: true, h: a.logout},

		passwd(r("GET", "/admin/account", auth.ManageAccount, a.account)),
		passwd(r("GET", "/admin/account/password", auth.ManageAccount, a.account)),
		passwd(r("POST", "/admin/account/password", auth.ManageAccount, a.changePassword)),
		enrol("GET", "/admin/account/2fa", a.enrolForm),
		enrol("POST", "/admin/account/2fa", a.enrol),
		r("POST", "/admin/account/2fa/remove", auth.ManageAccount, a.totpRemove),
		r("POST", "/admin/account/recovery", auth.ManageAccount, a.recoveryCodes),
		r("POST", "/admin/account/passkeys/begin", auth.ManageAccount, a.passkeyBegin),
		r("POST", "/admin/account/passkeys/finish", auth.ManageAccount, a.passkeyFinish),
		r("POST", "/admin/account/passkeys/{id}/delete", auth.ManageAccount, a.passkeyDelete),
		r("POST", "/admin/account/sessions/end", auth.ManageAccount, a.sessionEnd),
		r("POST", "/admin/account/sessions/end-others", auth.ManageAccount, a.sessionsEndOthers),
		passwd(r("POST", "/admin/me/language", auth.ReadStats, a.setLanguage)),

		r("GET", "/admin/{$}", auth.ReadStats, a.dashboard),

		r("GET", "/admin/subscribers", auth.ManageAudience, a.subscribers),
		r("POST", "/admin/subscribers", auth.ManageAudience, a.subscriberAdd),
		r("GET", "/admin/subscribers/{id}", auth.ManageAudience, a.subscriber),
		r("POST", "/admin/subscribers/{id}", auth.ManageAudience, a.subscriberSave),
		r("POST", "/admin/subscribers/{id}/blocklist", auth.ManageAudience, a.subscriberBlocklist),
		r("POST", "/admin/subscribers/{id}/erase", auth.ManageAudience, a.subscriberErase),

		r("GET", "/admin/lists", auth.ReadStats, a.lists),
		r("POST", "/admin/lists", auth.ManageAudience, a.listCreate),
		r("GET", "/admin/lists/{id}", auth.ManageAudience, a.listEdit),
		r("POST", "/admin/lists/{id}", auth.ManageAudience, a.listSave),
		r("POST", "/admin/lists/{id}/delete", auth.ManageAudience, a.listDelete),
		r("GET", "/admin/lists/{id}/export.csv", auth.ManageAudience, a.listExport),

		r("GET", "/admin/segments", auth.ManageAudience, a.segments),
		r("POST", "/admin/segments", auth.ManageAudience, a.segmentSave),
		r("POST", "/admin/segments/count", auth.ManageAudience, a.segmentCount),
		r("GET", "/admin/segments/{id}", auth.ManageAudience, a.segmentEdit),
		r("POST", "/admin/segments/{id}", auth.ManageAudience, a.segmentSave),
		r("POST", "/admin/segments/{id}/delete", auth.ManageAudience, a.segmentDelete),

		r("GET", "/admin/sunset", auth.ManageAudience, a.sunset),

		r("GET", "/admin/imports", auth.ManageAudience, a.importsPage),
		r("POST", "/admin/imports", auth.ManageAudience, a.importStart),
		r("GET", "/admin/imports/{id}", auth.ManageAudience, a.importPage),
		r("GET", "/admin/imports/{id}/events", auth.ManageAudience, a.importEvents),
		r("GET", "/admin/imports/{id}/rejects.csv", auth.ManageAudience, a.importRejects),

		r("GET", "/admin/editions", auth.ReadStats, a.editions),
		r("POST", "/admin/editions", auth.Compose, a.editionCreate),
		r("GET", "/admin/editions/{id}", auth.Compose, a.composer),
		r("POST", "/admin/editions/{id}", auth.Compose, a.composerSave),
		r("POST", "/admin/editions/{id}/autosave", auth.Compose, a.autosave),
		r("POST", "/admin/editions/{id}/media", auth.Compose, a.editionMedia),
		r("POST", "/admin/editions/{id}/test", auth.Send, a.editionTest),
		r("POST", "/admin/editions/{id}/publish", auth.Publish, a.editionPublish),
		r("GET", "/admin/editions/{id}/preview/{format}", auth.Compose, a.preview),
		r("GET", "/admin/editions/{id}/precheck", auth.Compose, a.editionPrecheck),
		r("GET", "/admin/editions/{id}/history", auth.Compose, a.history),
		r("POST", "/admin/editions/{id}/restore", auth.Compose, a.restore),
		r("POST", "/admin/editions/{id}/ready", auth.Publish, a.editionReady),

		r("GET", "/admin/sources", auth.Compose, a.sources),
		r("POST", "/admin/sources", auth.Publish, a.sourceCreate),
		r("POST", "/admin/sources/{id}/poll", auth.Compose, a.sourcePoll),
		r("POST", "/admin/sources/{id}/delete", auth.Publish, a.sourceDelete),

		r("GET", "/admin/series", auth.ReadStats, a.seriesList),
		r("POST", "/admin/series", auth.Send, a.seriesCreate),
		r("GET", "/admin/series/{id}", auth.ReadStats, a.seriesPage),
		r("POST", "/admin/series/{id}", auth.Send, a.seriesSave),
		r("POST", "/admin/series/{id}/delete", auth.Send, a.seriesDelete),

		r("GET", "/admin/campaigns", auth.ReadStats, a.campaigns),
		r("GET", "/admin/campaigns/new", auth.Send, a.campaignNew),
		r("POST", "/admin/campaigns", auth.Send, a.campaignCreate),
		r("GET", "/admin/campaigns/{id}", auth.ReadStats, a.campaign),
		r("GET", "/admin/campaigns/{id}/export.csv", auth.ReadStats, a.campaignExport),
		r("GET", "/admin/campaigns/{id}/clickmap", auth.ReadStats, a.campaignClickMap),
		r("GET", "/admin/campaigns/{id}/events", auth.ReadStats, a.campaignEvents),
		r("POST", "/admin/campaigns/{id}/test", auth.Send, a.campaignTest),
		r("POST", "/admin/campaigns/{id}/schedule", auth.Send, a.campaignSchedule),
		r("POST", "/admin/campaigns/{id}/start", auth.Send, a.campaignStart),
		r("POST", "/admin/campaigns/{id}/pause", auth.Send, a.campaignPause),
		r("POST", "/admin/campaigns/{id}/resume", auth.Send, a.campaignResume),
		r("POST", "/admin/campaigns/{id}/cancel", auth.Send, a.campaignCancel),

		r("GET", "/admin/outbox", auth.ManageAudience, a.outbox),
		r("GET", "/admin/outbox/{id}", auth.ManageAudience, a.outboxMessage),
		r("GET", "/admin/outbox/{id}/html", auth.ManageAudience, a.outboxHTML),
		r("GET", "/admin/outbox/{id}/raw", auth.ManageAudience, a.outboxRaw),

		r("GET", "/admin/suppressions", auth.ManageAudience, a.suppressions),
		r("POST", "/admin/suppressions", auth.ManageAudience, a.suppressionAdd),
		r("POST", "/admin/suppressions/remove", auth.ManageAudience, a.suppressionRemove),

		r("GET", "/admin/settings", auth.ManageSettings, a.settings),
		r("POST", "/admin/settings/publication", auth.ManageSettings, a.settingsPublication),
		r("POST", "/admin/settings/tracking", auth.ManageSettings, a.settingsTracking),
		r("POST", "/admin/settings/zone", auth.ManageSettings, a.settingsZone),
		r("POST", "/admin/settings/test", auth.ManageSettings, a.settingsTest),
		r("POST", "/admin/settings/relays/test", auth.ManageSettings, a.relayTest),
		r("POST", "/admin/settings/dkim", auth.ManageSettings, a.dkimGenerate),
		r("GET", "/admin/settings/signin", auth.ManageSettings, a.signinSettings),
		r("POST", "/admin/settings/signin", auth.ManageSettings, a.signinSettingsSave),

		r("GET", "/admin/webhooks", auth.ManageSettings, a.webhooks),
		r("POST", "/admin/webhooks", auth.ManageSettings, a.webhookCreate),
		r("GET", "/admin/webhooks/{id}", auth.ManageSettings, a.webhookPage),
		r("POST", "/admin/webhooks/{id}", auth.ManageSettings, a.webhookSave),
		r("POST", "/admin/webhooks/{id}/delete", auth.ManageSettings, a.webhookDelete),
		r("POST", "/admin/webhooks/{id}/test", auth.ManageSettings, a.webhookTest),

		r("GET", "/admin/audit", auth.ReadAudit, a.auditLog),
		r("GET", "/admin/audit.csv", auth.ReadAudit, a.auditCSV),
		r("POST", "/admin/audit/retention", auth.ManageSettings, a.auditRetention),

		r("GET", "/admin/users", auth.ManageUsers, a.users),
		r("POST", "/admin/users", auth.ManageUsers, a.userCreate),
		r("POST", "/admin/users/{id}", auth.ManageUsers, a.userSave),
		r("POST", "/admin/users/{id}/delete", auth.ManageUsers, a.userDelete),
		r("POST", "/admin/users/{id}/2fa-reset", auth.ManageUsers, a.userReset2FA),
		r("GET", "/admin/users/{id}/sessions", auth.ManageUsers, a.userSessions),
		r("POST", "/admin/users/{id}/sessions/end", auth.ManageUsers, a.userSessionsEnd),

		r("GET", "/admin/tokens", auth.ManageOwnTokens, a.tokens),
		r("POST", "/admin/tokens", auth.ManageOwnTokens, a.tokenCreate),
		r("POST", "/admin/tokens/{id}/delete", auth.ManageOwnTokens, a.tokenDelete),
	}
}

func (a *Admin) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range a.table() {
		mux.Handle(rt.method+" "+rt.path, a.wrap(rt))
	}
	return mux
}
