import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.js";

// The API the page talks to (`VITE_API_URL` in web/.env to change it).
const apiUrl: string = import.meta.env.VITE_API_URL ?? "http://127.0.0.1:3000";

const root = document.getElementById("root");
if (root === null) throw new Error("index.html lacks #root");
createRoot(root).render(
  <StrictMode>
    <App apiUrl={apiUrl} token={localStorage.getItem("token") ?? ""} />
  </StrictMode>,
);
