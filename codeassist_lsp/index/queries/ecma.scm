; Shared by JavaScript, TypeScript and TSX (names are matched with wildcards).
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function
(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function
(export_statement
  declaration: (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: (_) @_value)) @definition.constant
  (#not-match? @_value "^(async\\s*)?(function|\\(|[A-Za-z_$][A-Za-z0-9_$]*\\s*=>)"))
(assignment_expression
  left: (member_expression property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)]) @definition.function

(call_expression function: (_) @reference.call)
(new_expression constructor: (_) @reference.call)

(import_statement) @import
(export_statement source: (_)) @import
(call_expression
  function: [(identifier) (import)] @_fn
  arguments: (arguments . (string))
  (#match? @_fn "^(require|import)$")) @import
