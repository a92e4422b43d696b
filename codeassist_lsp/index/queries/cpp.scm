(class_specifier name: (_) @name body: (_)) @definition.class
(namespace_definition name: (_) @name) @definition.namespace
(function_definition
  declarator: (reference_declarator
    (function_declarator declarator: (_) @name))) @definition.function
(field_declaration_list
  (field_declaration
    declarator: (function_declarator declarator: (_) @name)) @definition.method)

(base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @reference.inherits)
(new_expression type: (_) @reference.call)
