; Definitions: @definition.<kind> on the node, @name on its name.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module
  (assignment left: (identifier) @name) @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; References.
(call function: (_) @reference.call)
(class_definition superclasses: (argument_list [(identifier) (attribute)] @reference.inherits))
(decorator [(identifier) (attribute)] @reference.type)
(type [(identifier) (attribute)] @reference.type)
(generic_type (identifier) @reference.type)
(type_parameter (type [(identifier) (attribute)] @reference.type))

; Imports.
(import_statement) @import
(import_from_statement) @import
