; TypeScript additions.
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @definition.namespace
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(method_signature name: (_) @name) @definition.method
(function_signature name: (_) @name) @definition.function

(class_heritage (extends_clause value: (_) @reference.inherits))
(implements_clause (_) @reference.inherits)
(extends_type_clause type: (_) @reference.inherits)
(type_annotation [(type_identifier) (nested_type_identifier)] @reference.type)
(union_type [(type_identifier) (nested_type_identifier)] @reference.type)
(intersection_type [(type_identifier) (nested_type_identifier)] @reference.type)
(array_type [(type_identifier) (nested_type_identifier)] @reference.type)
(tuple_type [(type_identifier) (nested_type_identifier)] @reference.type)
(type_alias_declaration value: [(type_identifier) (nested_type_identifier)] @reference.type)
(generic_type name: (type_identifier) @reference.type)
(type_arguments (type_identifier) @reference.type)

; Ambient declarations (`.d.ts`). `declare module "x" { … }` is a module named x; the
; legacy `module A.B { … }` is a namespace.
(module name: (string (string_fragment) @name)) @definition.module
(module name: [(identifier) (nested_identifier)] @name) @definition.namespace
; `declare global { … }`, and `global { … }` inside an ambient module (which the grammar
; reads as an expression or an error before a block): what they declare is top-level.
(ambient_declaration "global" (statement_block) @scope.global)
(module
  body: (statement_block
    [(expression_statement (identifier) @_global) (ERROR (identifier) @_global)]
    .
    (statement_block) @scope.global)
  (#eq? @_global "global"))
; Variables declared ambiently (`declare const VERSION: string`), in ambient and namespace
; bodies, and exported without a value (`export const x: number;`).
(ambient_declaration
  [(variable_declaration (variable_declarator name: (identifier) @name))
   (lexical_declaration (variable_declarator name: (identifier) @name))] @definition.constant)
(module
  body: (statement_block
    [(variable_declaration (variable_declarator name: (identifier) @name))
     (lexical_declaration (variable_declarator name: (identifier) @name))] @definition.constant))
(internal_module
  body: (statement_block
    [(variable_declaration (variable_declarator name: (identifier) @name))
     (lexical_declaration (variable_declarator name: (identifier) @name))] @definition.constant))
(ambient_declaration
  (statement_block
    [(variable_declaration (variable_declarator name: (identifier) @name))
     (lexical_declaration (variable_declarator name: (identifier) @name))] @definition.constant))
(module
  body: (statement_block
    (statement_block
      [(variable_declaration (variable_declarator name: (identifier) @name))
       (lexical_declaration (variable_declarator name: (identifier) @name))] @definition.constant)))
(export_statement
  declaration: [(variable_declaration (variable_declarator name: (identifier) @name !value))
                (lexical_declaration (variable_declarator name: (identifier) @name !value))]
  @definition.constant)
