import { render } from "preact";
import { readContext } from "./context";
import { GuestPage } from "./GuestPage";
import { showOrderInAddress } from "./orders";
import { lang } from "./strings";
import "./guest.css";

document.documentElement.lang = lang.get();
const context = readContext(window.location.search, window.location.hash);
// The code leaves the address bar; an order id stays, so reopening the link shows its code again.
if (context.code) showOrderInAddress(context.orderId);
render(<GuestPage context={context} />, document.getElementById("guest")!);
