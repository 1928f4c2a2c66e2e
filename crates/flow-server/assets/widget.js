// flowbot's chat widget. A site adds one tag:
//   <script src="https://HOST/widget.js" data-bot="shop" data-label="Chat with us"></script>
// and gets a button in the corner that opens the chat of that public bot. The chat lives in a
// shadow root, so the site's styles and the widget's do not mix; it talks to HOST's public
// endpoints (CORS) and keeps its conversation in the site's localStorage.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.bot) return;
  const bot = script.dataset.bot;
  const base = new URL("./", script.src).href;
  const label = script.dataset.label || "Chat with us";
  const openKey = `flowbot:widget-open:${base}:${bot}`;

  const remember = (open) => {
    try {
      window.sessionStorage.setItem(openKey, open ? "1" : "0");
    } catch {
      // Without storage the panel starts closed after a reload.
    }
  };
  const wasOpen = () => {
    try {
      return window.sessionStorage.getItem(openKey) === "1";
    } catch {
      return false;
    }
  };

  const mount = () => {
    const host = document.createElement("div");
    host.className = "flowbot-widget";
    const shadow = host.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL("assets/chat.css", base).href;
    const launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "fb-launcher";
    launcher.textContent = label;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "fb-panel");
    const panel = document.createElement("section");
    panel.className = "fb-panel";
    panel.id = "fb-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", `Chat: ${bot}`);
    shadow.append(style, launcher, panel);
    document.body.append(host);

    let chat = null;
    const close = () => {
      panel.hidden = true;
      launcher.hidden = false;
      launcher.setAttribute("aria-expanded", "false");
      remember(false);
      launcher.focus();
    };
    const open = async () => {
      panel.hidden = false;
      launcher.hidden = true;
      launcher.setAttribute("aria-expanded", "true");
      remember(true);
      if (!chat) {
        try {
          const { mountChat } = await import(new URL("assets/chat.js", base).href);
          chat = mountChat(panel, { base, bot, onClose: close });
        } catch {
          // The site's CSP, or the server being down, kept the chat from loading.
          panel.textContent = "The chat could not be loaded.";
          panel.setAttribute("tabindex", "-1");
          panel.focus();
          return;
        }
      }
      chat.focus();
    };
    launcher.addEventListener("click", () => open());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    if (wasOpen()) open();
  };

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
