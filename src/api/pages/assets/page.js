// zhengyin verification page: optional improvements only; the page and its form work without it.
// - refuse a file over the size limit before uploading it (the server refuses it anyway: 413);
// - show that the upload is under way and stop a second click.
(function () {
  "use strict";
  var form = document.querySelector("form[data-limit]");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var button = form.querySelector("button[type=submit]");
  var hint = document.getElementById("limit");
  var limit = parseInt(form.getAttribute("data-limit"), 10) || 0;
  input.addEventListener("change", function () {
    var f = input.files && input.files[0];
    if (f && limit && f.size > limit) {
      input.setCustomValidity("文件太大");
      if (hint) hint.textContent = "文件太大（" + Math.ceil(f.size / 1048576) + " MB），不能超过 " +
        Math.floor(limit / 1048576) + " MB。";
    } else {
      input.setCustomValidity("");
    }
  });
  form.addEventListener("submit", function () {
    button.disabled = true;
    button.textContent = "正在核验…";
  });
})();
