import { render } from "preact";
import { App } from "./App";
import { lang } from "./i18n";
import "./styles.css";

document.documentElement.lang = lang.get();
render(<App />, document.getElementById("app")!);
