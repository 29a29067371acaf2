import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("alma_fee_grid", {
    url: "/odoo/action-payment_alma.action_alma_fee_line",
    steps: () => [
        {
            content: "Two Alma payments wait for Alma's transfer",
            trigger:
                ".o_list_renderer:has(.o_data_row:nth-child(2)):not(:has(.o_data_row:nth-child(3)))",
        },
        {
            content: "The footer sums the net of both",
            trigger: "tfoot:contains('770.24')",
        },
        {
            content: "A single click changes nothing",
            trigger: ".o_data_row:first-child td[name=partner_id]",
            run: "click",
        },
        {
            trigger:
                ".o_data_row:first-child td[name=settled_mark]:not(:contains('✓'))",
        },
        {
            content: "Double-click: the transfer has arrived",
            trigger: ".o_data_row:first-child td[name=partner_id]",
            run: "dblclick",
        },
        {
            content: "A green tick at the left of the line",
            trigger:
                ".o_data_row:first-child td[name=settled_mark].text-success:contains('✓')",
        },
        {
            content: "A message says which line was marked",
            trigger:
                ".o_notification:contains('Transfer received marked for Order 00001-001-0001')",
        },
        {
            content: "Show what is settled",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .dropdown-item:contains('Not settled')",
            run: "click",
        },
        {
            trigger:
                ".o_filter_menu .dropdown-item:contains('Settled'):not(:contains('Not'))",
            run: "click",
        },
        {
            content: "Only the settled line is left",
            trigger:
                ".o_list_renderer:has(.o_data_row td[name=settled_mark]:contains('✓')):not(:has(.o_data_row:nth-child(2)))",
        },
        {
            content: "Download the grid as shown",
            trigger: ".o_alma_export_xlsx",
            run: "click",
        },
        {
            trigger: ".o_list_renderer",
        },
    ],
});

/** Run in French (tests/test_french.py): the longest headers must fit their columns. */
registry.category("web_tour.tours").add("alma_fee_grid_headers", {
    url: "/odoo/action-payment_alma.action_alma_fee_line",
    steps: () => [
        {
            content: "The grid shows the Alma payment",
            trigger: ".o_list_renderer .o_data_row",
        },
        {
            content: "No column header is cut",
            trigger: ".o_list_renderer thead th[data-name='net']",
            run() {
                const cut = [
                    ...document.querySelectorAll(
                        ".o_list_renderer thead th[data-name]"
                    ),
                ]
                    .map((th) => [
                        th.dataset.name,
                        th.querySelector("span.text-truncate"),
                    ])
                    .filter(
                        ([, label]) =>
                            label && label.scrollWidth > label.clientWidth + 1
                    )
                    .map(([name, label]) => `${name}: "${label.textContent}"`);
                if (cut.length) {
                    throw new Error(`Cut headers: ${cut.join(", ")}`);
                }
                const net = document.querySelector(
                    "thead th[data-name='net']"
                ).textContent;
                if (!net.includes("Net versé")) {
                    throw new Error(`The grid is not in French: "${net}"`);
                }
            },
        },
    ],
});
