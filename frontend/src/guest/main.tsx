import { render } from "preact";
import { readContext } from "./context";
import { GuestPage } from "./GuestPage";
import { lang } from "./strings";
import "./guest.css";

document.documentElement.lang = lang.get();
const context = readContext(window.location.search, window.location.hash);
if (context.code) history.replaceState(null, "", window.location.pathname + window.location.search); // the code leaves the address bar
render(<GuestPage context={context} />, document.getElementById("guest")!);
