// The page at /chat/{bot}: the chat of one public bot, filling the window.
import { mountChat } from "./chat.js";

const root = document.getElementById("flowbot-chat");
mountChat(root, {
  base: new URL("../", import.meta.url),
  bot: root.dataset.bot,
  heading: "h1",
});
