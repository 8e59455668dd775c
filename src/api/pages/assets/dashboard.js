// zhengyin 数字驾驶舱: the page holds no data. The archivist's token is typed into the form, kept
// in sessionStorage (this tab only, gone when it closes) and sent as an Authorization header to
// GET /v1/dashboard; never in a URL. The answer's `html` is drawn by the server (charts as SVG,
// no script inside) and replaces the board; the page asks again every `refresh_secs`.
(function () {
  "use strict";
  var form = document.getElementById("login");
  var board = document.getElementById("board");
  if (!form || !board) return;
  var err = document.getElementById("login-error");
  var input = document.getElementById("token");
  var logout = document.getElementById("logout");
  var KEY = "zhengyin-dashboard-token";
  var timer = null;

  function schedule(secs) {
    clearTimeout(timer);
    timer = setTimeout(load, Math.max(5, secs || 30) * 1000);
  }
  function fail(msg) {
    err.textContent = msg;
    err.hidden = false;
  }
  function load() {
    var t = sessionStorage.getItem(KEY);
    if (!t) {
      form.hidden = false;
      return;
    }
    fetch("/v1/dashboard" + window.location.search, {
      headers: { Authorization: "Bearer " + t, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit"
    }).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        sessionStorage.removeItem(KEY);
        form.hidden = false;
        logout.hidden = true;
        throw new Error(r.status === 401 ? "令牌无效，请重新输入。" : "该令牌无权查看驾驶舱，请使用档案管理员令牌。");
      }
      if (!r.ok) throw new Error("数据加载失败（HTTP " + r.status + "），稍后自动重试。");
      return r.json();
    }).then(function (d) {
      board.innerHTML = d.html;
      board.setAttribute("data-loaded", d.generated_at);
      form.hidden = true;
      err.hidden = true;
      logout.hidden = false;
      schedule(d.refresh_secs);
    }).catch(function (e) {
      fail(e.message);
      if (sessionStorage.getItem(KEY)) schedule(30);
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = input.value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    input.value = "";
    load();
  });
  logout.addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    clearTimeout(timer);
    board.innerHTML = "";
    board.removeAttribute("data-loaded");
    form.hidden = false;
    logout.hidden = true;
  });
  load();
})();
