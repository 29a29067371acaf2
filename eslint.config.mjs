// ESLint for the add-on's JavaScript (OCA's pre-commit runs it too): Odoo 18's ES modules in
// the browser, with the globals Odoo's assets give (odoo, owl, luxon, QRCode).
const browser = Object.fromEntries(
    [
        "window",
        "document",
        "console",
        "navigator",
        "location",
        "history",
        "URL",
        "URLSearchParams",
        "fetch",
        "setTimeout",
        "clearTimeout",
        "setInterval",
        "clearInterval",
        "requestAnimationFrame",
        "HTMLElement",
        "Event",
        "CustomEvent",
        "KeyboardEvent",
        "localStorage",
        "sessionStorage",
        "AbortController",
        "FormData",
        "HTMLFormElement",
    ].map((name) => [name, "readonly"])
);

export default [
    {
        files: ["static/**/*.js"],
        languageOptions: {
            ecmaVersion: 2022,
            sourceType: "module",
            globals: {...browser, odoo: "readonly", owl: "readonly", luxon: "readonly"},
        },
        rules: {
            "no-undef": "error",
            "no-unused-vars": ["error", {args: "none"}],
            "no-unreachable": "error",
            "no-dupe-keys": "error",
            "no-redeclare": "error",
            eqeqeq: ["error", "smart"],
            "no-var": "error",
            "prefer-const": "error",
        },
    },
];
