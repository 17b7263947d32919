fn main() {
    println!("calcbook");
}
