; JSX elements use components like calls.
(jsx_opening_element name: (_) @reference.call)
(jsx_self_closing_element name: (_) @reference.call)
