package mockidp

import (
	"html/template"
	"net/http"
)

// pageData fills the one HTML template of the login and device pages.
type pageData struct {
	Title    string
	Action   string
	Hidden   map[string]string
	Client   string
	Scopes   []string
	Users    []string
	UserCode string
	Error    string
	Message  string
	Login    bool // the authorization code sign-in form
	Device   bool // the device verification form
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}label{display:block;margin:.6em 0}.err{color:#b00}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if or .Login .Device}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .Client}}<p>Client <b>{{.Client}}</b> asks for: {{range .Scopes}}<code>{{.}}</code> {{end}}</p>{{end}}
{{if .Device}}<label>Code shown on the device <input name="user_code" value="{{.UserCode}}" autocomplete="off"></label>{{end}}
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
{{if .Users}}<p>Known users: {{range .Users}}<code>{{.}}</code> {{end}}</p>{{end}}
<button name="action" value="approve">Approve</button>
<button name="action" value="deny">Deny</button>
</form>
{{end}}
</body></html>
`))

func renderPage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, d) // a failed write to the client cannot be reported
}
